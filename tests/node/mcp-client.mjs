// Drives the official MCP TypeScript client against a running server and prints what it saw as JSON.
// Usage: node mcp-client.mjs <endpoint-url> <steps-json>
// Environment: MCP_FUNCTION_KEY (sent as x-functions-key when set).
// Steps: [{"op":"listTools"} | {"op":"callTool","name":...,"arguments":{...},"progress":true}
//         (progress notifications are recorded with receivedAt, the result with completedAt, both in ms)
//         | {"op":"listResources"} | {"op":"readResource","uri":...} | {"op":"listResourceTemplates"}]
// A string "$session" in a step is replaced by the session_id the latest tool result returned, "$job" by its job_id.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [endpoint, stepsJson] = process.argv.slice(2);
const steps = JSON.parse(stepsJson ?? '[]');
const headers = process.env.MCP_FUNCTION_KEY ? { 'x-functions-key': process.env.MCP_FUNCTION_KEY } : {};

const transport = new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers } });
const client = new Client({ name: 'sandboxfunctions-tests', version: '1.0.0' });

const output = { steps: [] };
try {
  await client.connect(transport);
  output.server = client.getServerVersion();
  output.protocolVersion = transport.protocolVersion ?? null;
  output.capabilities = client.getServerCapabilities();
  const latest = { $session: null, $job: null };
  for (const step of steps) {
    const result = await run(substitute(step, latest));
    latest.$session = result.result?.structuredContent?.session_id ?? latest.$session;
    latest.$job = result.result?.structuredContent?.job_id ?? latest.$job;
    output.steps.push(result);
  }
} catch (error) {
  output.error = { name: error?.name, message: error?.message, code: error?.code ?? null };
} finally {
  await client.close().catch(() => {});
}
process.stdout.write(JSON.stringify(output));

function substitute(value, latest) {
  if (typeof value === 'string' && Object.hasOwn(latest, value)) return latest[value];
  if (Array.isArray(value)) return value.map((v) => substitute(v, latest));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, latest)]));
  return value;
}

async function run(step) {
  try {
    switch (step.op) {
      case 'listTools':
        return { op: step.op, result: await client.listTools() };
      case 'callTool': {
        const progress = [];
        const options = step.progress
          ? { onprogress: (p) => progress.push({ ...p, receivedAt: Date.now() }), timeout: step.timeoutMs ?? 120000 }
          : { timeout: step.timeoutMs ?? 120000 };
        const result = await client.callTool({ name: step.name, arguments: step.arguments ?? {} }, undefined, options);
        return { op: step.op, tool: step.name, result, progress, completedAt: Date.now() };
      }
      case 'listResources':
        return { op: step.op, result: await client.listResources() };
      case 'listResourceTemplates':
        return { op: step.op, result: await client.listResourceTemplates() };
      case 'readResource':
        return { op: step.op, result: await client.readResource({ uri: step.uri }) };
      default:
        return { op: step.op, error: { message: `unknown step ${step.op}` } };
    }
  } catch (error) {
    return { op: step.op, tool: step.name, error: { name: error?.name, message: error?.message, code: error?.code ?? null } };
  }
}

// Drives the official MCP TypeScript client against a running server and prints what it saw as JSON.
// Usage: node mcp-client.mjs <endpoint-url> <steps-json>
// Environment: MCP_FUNCTION_KEY (sent as x-functions-key when set).
// Steps: [{"op":"listTools"} | {"op":"callTool","name":...,"arguments":{...},"progress":true}
//         | {"op":"listResources"} | {"op":"readResource","uri":...} | {"op":"listResourceTemplates"}]
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
  for (const step of steps) {
    output.steps.push(await run(step));
  }
} catch (error) {
  output.error = { name: error?.name, message: error?.message, code: error?.code ?? null };
} finally {
  await client.close().catch(() => {});
}
process.stdout.write(JSON.stringify(output));

async function run(step) {
  try {
    switch (step.op) {
      case 'listTools':
        return { op: step.op, result: await client.listTools() };
      case 'callTool': {
        const progress = [];
        const options = step.progress ? { onprogress: (p) => progress.push(p), timeout: step.timeoutMs ?? 120000 } : { timeout: step.timeoutMs ?? 120000 };
        const result = await client.callTool({ name: step.name, arguments: step.arguments ?? {} }, undefined, options);
        return { op: step.op, result, progress };
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
    return { op: step.op, error: { name: error?.name, message: error?.message, code: error?.code ?? null } };
  }
}

namespace SandboxFunctions.Tools;

/// <summary>What ran code in a session: an execute_code call, an execute_command call, or a background job.</summary>
public enum ExecutionKind
{
    Execution,
    Command,
    Job,
}

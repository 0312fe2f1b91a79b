using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using SandboxFunctions.Host.Endpoints;
using SandboxFunctions.Sandbox;
using SandboxFunctions.Sessions;

namespace SandboxFunctions.Functions;

/// <summary>Status, version, runtimes and storage reachability, for probes; anonymous and free of secrets.</summary>
public sealed class HealthFunction(RuntimeCatalog runtimes, IStorageHealthProbe storage)
{
    public const string Name = "health";

    [Function(Name)]
    public Task<IResult> RunAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return HealthEndpoints.CheckAsync(runtimes, storage, request.HttpContext.RequestAborted);
    }
}

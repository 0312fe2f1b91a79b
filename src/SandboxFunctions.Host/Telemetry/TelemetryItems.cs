using System.Globalization;
using System.Text.Json.Nodes;
using OpenTelemetry;
using OpenTelemetry.Resources;

namespace SandboxFunctions.Host.Telemetry;

/// <summary>The envelope every Application Insights item travels in.</summary>
internal static class TelemetryItems
{
    public static JsonObject Envelope(string kind, string baseType, string instrumentationKey, DateTime time, JsonObject tags, JsonObject data) => new()
    {
        ["name"] = $"Microsoft.ApplicationInsights.{kind}",
        ["time"] = time.ToString("O", CultureInfo.InvariantCulture),
        ["iKey"] = instrumentationKey,
        ["tags"] = tags,
        ["data"] = new JsonObject { ["baseType"] = baseType, ["baseData"] = data },
    };
}

/// <summary>The cloud role (service name) and instance the portal groups telemetry by, from the provider's resource.</summary>
internal sealed record TelemetryRole(string Name, string Instance)
{
    public static TelemetryRole Of(BaseProvider? provider)
    {
        var attributes = (provider?.GetResource() ?? Resource.Empty).Attributes.ToDictionary(a => a.Key, a => a.Value);
        return new TelemetryRole(
            attributes.GetValueOrDefault("service.name")?.ToString() ?? "sandboxfunctions",
            attributes.GetValueOrDefault("service.instance.id")?.ToString() ?? Environment.MachineName);
    }

    public JsonObject Tags() => new()
    {
        ["ai.cloud.role"] = Name,
        ["ai.cloud.roleInstance"] = Instance,
        ["ai.internal.sdkVersion"] = "sandboxfunctions:" + ServerVersion.Current,
    };
}

using System.Diagnostics.CodeAnalysis;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace SandboxFunctions.Sessions.Tests.Storage;

/// <summary>A pipeline policy made of a function, for injecting faults, delays and observations into a client.</summary>
internal sealed class TestPolicy(Func<HttpMessage, Func<ValueTask>, ValueTask> onSend) : HttpPipelinePolicy
{
    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        onSend(message, () => ProcessNextAsync(message, pipeline));
}

/// <summary>A response a policy can answer with instead of the service.</summary>
internal sealed class TestResponse : Response
{
    private readonly Dictionary<string, string> _headers;

    public TestResponse(int status, IReadOnlyDictionary<string, string>? headers = null, string body = "")
    {
        Status = status;
        _headers = new Dictionary<string, string>(headers ?? new Dictionary<string, string>(), StringComparer.OrdinalIgnoreCase);
        ContentStream = new MemoryStream(Encoding.UTF8.GetBytes(body));
    }

    public override int Status { get; }

    public override string ReasonPhrase => $"Status {Status}";

    /// <summary>
    /// The pipeline classifies responses in its transport step, which a policy answering by itself skips; see
    /// <see cref="AnswerWith"/>.
    /// </summary>
    public override bool IsError => _isError ?? Status >= 400;

    private bool? _isError;

    /// <summary>Answers the request with this response, classified as the operation's own classifier would (a 404 may be an answer).</summary>
    public ValueTask AnswerWith(HttpMessage message)
    {
        message.Response = this;
        _isError = message.ResponseClassifier.IsErrorResponse(message);
        return ValueTask.CompletedTask;
    }

    public override Stream? ContentStream { get; set; }

    public override string ClientRequestId { get; set; } = string.Empty;

    public override void Dispose() => ContentStream?.Dispose();

    protected override bool ContainsHeader(string name) => _headers.ContainsKey(name);

    protected override IEnumerable<HttpHeader> EnumerateHeaders() => _headers.Select(pair => new HttpHeader(pair.Key, pair.Value));

    protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value) => _headers.TryGetValue(name, out value);

    protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values)
    {
        values = _headers.TryGetValue(name, out var value) ? [value] : null;
        return values is not null;
    }
}

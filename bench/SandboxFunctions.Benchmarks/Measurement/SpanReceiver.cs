using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using SandboxFunctions.Testing;

namespace SandboxFunctions.Benchmarks.Measurement;

/// <summary>One finished span as the server exported it.</summary>
internal sealed record Span(string TraceId, string SpanId, string ParentSpanId, string Scope, string Name, long StartNanoseconds, long EndNanoseconds)
{
    public double Milliseconds => (EndNanoseconds - StartNanoseconds) / 1e6;
}

/// <summary>
/// An OTLP/HTTP endpoint on loopback that keeps the spans a server exports (protobuf encoding), so a benchmark can
/// split the server's time by step without trusting the server to measure itself any other way.
/// </summary>
internal sealed class SpanReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly ConcurrentQueue<Span> _spans = new();
    private readonly Task _serving;

    private SpanReceiver(HttpListener listener, Uri endpoint)
    {
        _listener = listener;
        Endpoint = endpoint;
        _serving = ServeAsync();
    }

    public Uri Endpoint { get; }

    /// <summary>The settings that make a server export its spans here, promptly.</summary>
    public IReadOnlyDictionary<string, string?> ServerSettings => new Dictionary<string, string?>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
    };

    public IReadOnlyList<Span> Spans => [.. _spans];

    public static SpanReceiver Start()
    {
        var port = FreePort.Next();
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        return new SpanReceiver(listener, new Uri($"http://127.0.0.1:{port}/"));
    }

    /// <summary>Waits until the spans stop arriving: the exporter sends in batches a little after the work ends.</summary>
    public async Task SettleAsync()
    {
        var count = -1;
        while (count != _spans.Count)
        {
            count = _spans.Count;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _serving;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or SocketException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                foreach (var span in ReadTraces(body.ToArray()))
                {
                    _spans.Enqueue(span);
                }
            }

            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    }

    // ExportTraceServiceRequest: resource_spans = 1 { scope_spans = 2 { scope = 1 { name = 1 }, spans = 2 } }.
    private static IEnumerable<Span> ReadTraces(byte[] request)
    {
        foreach (var resourceSpans in Fields(request).Where(f => f.Number == 1))
        {
            foreach (var scopeSpans in Fields(resourceSpans.Bytes).Where(f => f.Number == 2))
            {
                var fields = Fields(scopeSpans.Bytes).ToList();
                var scope = fields.Where(f => f.Number == 1).Select(f => Fields(f.Bytes).FirstOrDefault(n => n.Number == 1).Text).FirstOrDefault() ?? string.Empty;
                foreach (var span in fields.Where(f => f.Number == 2))
                {
                    yield return ReadSpan(scope, span.Bytes);
                }
            }
        }
    }

    // Span: trace_id = 1, span_id = 2, parent_span_id = 4, name = 5, start_time_unix_nano = 7, end_time_unix_nano = 8.
    private static Span ReadSpan(string scope, byte[] bytes)
    {
        string traceId = "", spanId = "", parentId = "", name = "";
        long start = 0, end = 0;
        foreach (var field in Fields(bytes))
        {
            switch (field.Number)
            {
                case 1: traceId = Convert.ToHexStringLower(field.Bytes); break;
                case 2: spanId = Convert.ToHexStringLower(field.Bytes); break;
                case 4: parentId = Convert.ToHexStringLower(field.Bytes); break;
                case 5: name = field.Text; break;
                case 7: start = field.Number64; break;
                case 8: end = field.Number64; break;
            }
        }

        return new Span(traceId, spanId, parentId, scope, name, start, end);
    }

    private readonly record struct Field(int Number, byte[] Bytes, long Number64)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Bytes);
    }

    private static IEnumerable<Field> Fields(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    yield return new Field(number, [], (long)ReadVarint(message, ref position));
                    break;
                case 1:
                    yield return new Field(number, [], BitConverter.ToInt64(message, position));
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    yield return new Field(number, message[position..(position + length)], 0);
                    position += length;
                    break;
                case 5:
                    yield return new Field(number, [], BitConverter.ToInt32(message, position));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"OTLP field {number} has wire type {tag & 7}, which this reader does not know.");
            }
        }
    }

    private static ulong ReadVarint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}

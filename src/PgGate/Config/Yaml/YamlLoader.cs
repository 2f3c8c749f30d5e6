using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PgGate.Config.Yaml;

/// <summary>
/// Reads YAML text into YamlDotNet's representation model, where every node keeps its line and column,
/// and turns every syntax problem into a <see cref="ConfigException"/> that names the file and line.
/// </summary>
internal static class YamlLoader
{
    /// <summary>The root node, or <c>null</c> when the text holds no document (empty or only comments).</summary>
    public static YamlNode? Load(string text, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            var where = new SourceLocation(file, (int)e.Start.Line, (int)e.Start.Column);
            throw new ConfigException(where, "", "invalid YAML: " + Describe(e));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet fails without a position on some malformed flow collections (e.g. "a: [1, 2"
            // followed by more keys); replay the events to find where the parser gave up.
            var where = LastGoodPosition(text, file);
            throw new ConfigException(where, "", "invalid YAML after this point: look for an unclosed '[', '{' or quote");
        }

        if (stream.Documents.Count == 0)
            return null;
        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode;
            throw new ConfigException(new SourceLocation(file, (int)second.Start.Line, (int)second.Start.Column), "",
                "the file holds more than one YAML document ('---'); put the whole configuration in one document");
        }
        return stream.Documents[0].RootNode;
    }

    private static string Describe(YamlException e)
    {
        var message = e.Message;
        if (message.StartsWith("Duplicate key ", StringComparison.Ordinal))
            return "the key '" + message["Duplicate key ".Length..] + "' appears twice in the same mapping; keep one";
        var inner = e.InnerException?.Message;
        return string.IsNullOrEmpty(inner) || inner == message ? message : message + " (" + inner + ")";
    }

    private static SourceLocation LastGoodPosition(string text, string file)
    {
        var parser = new Parser(new StringReader(text));
        var last = new SourceLocation(file, 1, 1);
        try
        {
            while (parser.MoveNext())
            {
                var end = parser.Current!.End;
                last = new SourceLocation(file, (int)end.Line, (int)end.Column);
            }
        }
        catch (Exception)
        {
            // The position of the last event that parsed is the best pointer we have.
        }
        return last;
    }
}

using System.Globalization;
using System.Text;
using Lineage.Core.Errors;

namespace Lineage.Core.Query;

internal enum TokenKind { Identifier, String, Number, Operator, LParen, RParen, Comma, End }

/// <summary>
/// A token. An identifier keeps its dotted segments (<c>tags.`data set`</c> is one identifier with
/// segments <c>tags</c> and <c>data set</c>); <see cref="Quoted"/> tells whether a string came in
/// double quotes, which MLflow accepts both as a key quote and as a value quote.
/// </summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Position, IReadOnlyList<string>? Segments = null, bool Quoted = false)
{
    public bool IsWord(string word) => Kind == TokenKind.Identifier && Segments!.Count == 1 && !Quoted
                                       && string.Equals(Text, word, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Splits filter text into tokens. Errors name the 0-based position of the bad character.</summary>
internal static class Lexer
{
    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            var start = i;
            switch (c)
            {
                case '(': tokens.Add(new Token(TokenKind.LParen, "(", i++)); continue;
                case ')': tokens.Add(new Token(TokenKind.RParen, ")", i++)); continue;
                case ',': tokens.Add(new Token(TokenKind.Comma, ",", i++)); continue;
                case '\'':
                    tokens.Add(new Token(TokenKind.String, ReadQuoted(text, ref i, '\''), start));
                    continue;
                case '"':
                    tokens.Add(new Token(TokenKind.String, ReadQuoted(text, ref i, '"'), start, Quoted: true));
                    continue;
                case '`':
                    tokens.Add(ReadIdentifier(text, ref i));
                    continue;
            }
            if (c is '=' or '!' or '<' or '>' or '~')
            {
                while (i < text.Length && text[i] is '=' or '!' or '<' or '>' or '~') i++;
                tokens.Add(new Token(TokenKind.Operator, text[start..i], start));
                continue;
            }
            if (char.IsAsciiDigit(c) || ((c is '-' or '+' or '.') && i + 1 < text.Length && (char.IsAsciiDigit(text[i + 1]) || text[i + 1] == '.')))
            {
                i++;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '.' or '+' or '-')
                       && !(text[i] is '+' or '-' && text[i - 1] is not ('e' or 'E'))) i++;
                var number = text[start..i];
                if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    throw QueryParser.Error(start, $"'{number}' is not a number");
                tokens.Add(new Token(TokenKind.Number, number, start));
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                tokens.Add(ReadIdentifier(text, ref i));
                continue;
            }
            throw QueryParser.Error(i, $"unexpected character '{c}'");
        }
        tokens.Add(new Token(TokenKind.End, "", text.Length));
        return tokens;
    }

    private static string ReadQuoted(string text, ref int i, char quote)
    {
        var start = i++;
        var sb = new StringBuilder();
        while (i < text.Length)
        {
            var c = text[i++];
            if (c == quote)
            {
                // A doubled quote inside a string stands for the quote itself (SQL style).
                if (i < text.Length && text[i] == quote && quote != '`') { sb.Append(quote); i++; continue; }
                return sb.ToString();
            }
            if (c == '\\' && i < text.Length && text[i] == quote) { sb.Append(quote); i++; continue; }
            sb.Append(c);
        }
        throw QueryParser.Error(start, $"unterminated {(quote == '`' ? "backquoted key" : "string")} starting here");
    }

    /// <summary>Dotted identifier; after a dot a segment may be quoted with backquotes or double quotes.</summary>
    private static Token ReadIdentifier(string text, ref int i)
    {
        var start = i;
        var segments = new List<string>();
        var quoted = false;
        while (true)
        {
            if (i < text.Length && text[i] == '`')
            {
                segments.Add(ReadQuoted(text, ref i, '`'));
                quoted = true;
            }
            else if (i < text.Length && text[i] == '"' && segments.Count > 0)
            {
                segments.Add(ReadQuoted(text, ref i, '"'));
                quoted = true;
            }
            else
            {
                var s = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '-' or ':' or '/')) i++;
                if (s == i) throw QueryParser.Error(i, "expected a key after '.'");
                segments.Add(text[s..i]);
            }
            // Only the first dot separates the prefix: keys may contain dots (metrics.val.loss).
            if (segments.Count == 1 && i < text.Length && text[i] == '.') { i++; continue; }
            if (segments.Count == 2 && !quoted)
            {
                // The rest of an unquoted key, dots included.
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '-' or '.' or ':' or '/'))
                    segments[1] += text[i++];
            }
            break;
        }
        return new Token(TokenKind.Identifier, text[start..i], start, segments, quoted);
    }
}

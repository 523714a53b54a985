using System.Globalization;
using System.Text;

namespace PrequelBot.Commands;

/// <summary>
/// Splits command text into words and refuses text no valid command contains: control characters,
/// non-ASCII characters, quotes and semicolons. Tolerates what chat clients do to typed text: Teams'
/// <c>&amp;nbsp;</c> and non-breaking spaces, newlines, and macOS turning <c>--</c> into an em or en dash.
/// </summary>
internal static class CommandTokenizer
{
    public const int MaxLength = 1000;

    private const char NoBreakSpace = '\u00A0';
    private const char EnDash = '\u2013';
    private const char EmDash = '\u2014';

    /// <summary>Returns null and the words, or a one-line error and no words.</summary>
    public static string? Tokenize(string text, out IReadOnlyList<string> words)
    {
        words = [];
        var normalized = text.Replace("&nbsp;", " ", StringComparison.OrdinalIgnoreCase).Trim(WhitespaceChars);
        if (normalized.Length > MaxLength)
        {
            return $"Command too long ({normalized.Length:N0} characters; the limit is {MaxLength:N0}). Type help for the syntax.";
        }

        var found = new List<string>();
        var current = new StringBuilder();
        foreach (var c in normalized)
        {
            if (IsWhitespace(c))
            {
                Flush(current, found);
                continue;
            }

            if (char.IsControl(c))
            {
                return $"Control character U+{(int)c:X4} is not allowed in a command.";
            }

            current.Append(c);
        }

        Flush(current, found);

        for (var i = 0; i < found.Count; i++)
        {
            var word = NormalizeLeadingDash(found[i]);
            var problem = CharacterProblem(word);
            if (problem is not null)
            {
                return problem;
            }

            found[i] = word;
        }

        words = found;
        return null;
    }

    private static readonly char[] WhitespaceChars = [' ', '\t', '\r', '\n', NoBreakSpace];

    private static bool IsWhitespace(char c) => Array.IndexOf(WhitespaceChars, c) >= 0;

    private static void Flush(StringBuilder current, List<string> words)
    {
        if (current.Length > 0)
        {
            words.Add(current.ToString());
            current.Clear();
        }
    }

    /// <summary>macOS and iOS auto-correct <c>--replica</c> to <c>—replica</c>; read it back as an option.</summary>
    private static string NormalizeLeadingDash(string word) =>
        word.Length > 0 && word[0] is EmDash or EnDash ? "--" + word[1..] : word;

    private static string? CharacterProblem(string word)
    {
        foreach (var rune in word.EnumerateRunes())
        {
            if (rune.Value is '"' or '\'' or '`' or ';')
            {
                return $"Character '{(char)rune.Value}' is not allowed: names never contain quotes or semicolons "
                       + "(a source name with spaces needs no quotes: --source-name Sales EU).";
            }

            if (rune.Value is 0x2018 or 0x2019 or 0x201C or 0x201D)
            {
                return $"Curly quote U+{rune.Value:X4} is not allowed: names never contain quotes "
                       + "(a source name with spaces needs no quotes: --source-name Sales EU).";
            }

            if (!rune.IsAscii)
            {
                return $"Character {DescribeNonAscii(rune)} in '{Shorten(word)}' is not allowed: commands use plain "
                       + "ASCII letters, digits and punctuation (look-alike letters from other alphabets are refused).";
            }
        }

        return null;
    }

    private static string DescribeNonAscii(Rune rune)
    {
        var code = $"U+{rune.Value:X4}";
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.DashPunctuation
                or UnicodeCategory.OtherPunctuation or UnicodeCategory.MathSymbol or UnicodeCategory.OtherSymbol
                => $"'{rune}' ({code})",
            _ => $"{code} (invisible)",
        };
    }

    /// <summary>Echoes at most 40 characters of user text, with invisible characters shown as code points.</summary>
    internal static string Shorten(string word)
    {
        var builder = new StringBuilder();
        foreach (var rune in word.EnumerateRunes())
        {
            if (builder.Length >= 40)
            {
                builder.Append('…');
                break;
            }

            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Format or UnicodeCategory.Control or UnicodeCategory.SpaceSeparator
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.NonSpacingMark
                or UnicodeCategory.EnclosingMark or UnicodeCategory.SpacingCombiningMark)
            {
                builder.Append(CultureInfo.InvariantCulture, $"<U+{rune.Value:X4}>");
            }
            else
            {
                builder.Append(rune.ToString());
            }
        }

        return builder.ToString();
    }
}

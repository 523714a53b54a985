namespace PrequelBot.Commands;

/// <summary>
/// Turns command text into a typed <see cref="BotCommand"/> or a one-line error. Pure: no I/O, no state;
/// safe to call from any thread. Every name in a successful result has passed <see cref="Identifiers"/>.
/// </summary>
public static class CommandParser
{
    /// <summary>What <c>help</c> shows: every command and option with its default (README, "The command language").</summary>
    public static string HelpText { get; } =
        """
        PrequelBot connects an Amazon RDS/Aurora PostgreSQL database to Prequel as a source.

        connect <db> [options]   plan each change, ask an approver, then apply it step by step
        plan <db> [options]      show what connect would change; changes nothing, asks no approval
        status [<onboarding-id>] no id: active and recent onboardings; with an id: its step checklist
        cancel <onboarding-id>   stop an onboarding: no further step runs
        retry <onboarding-id>    re-run the failed step
        rotate <db>              new password for the reader; Prequel's source is updated (both approved)
        disconnect <db> [--keep-replica | --final-snapshot]
                                 undo what connect created, step by step with approvals; --keep-replica leaves the replica,
                                 --final-snapshot keeps a manual DB snapshot of it first (default: none, it is a copy)
        check <db>               compare a connected database with what connect recorded (ok / drift:); changes nothing
        audit <onboarding-id>    who requested, approved and ran what, and when (UTC)
        help                     this text

        <db> is a database alias from the bot's settings (for plan, also any RDS DB instance identifier).
        Options of connect and plan:
          --replica                      create a read replica and expose it instead of the database
          --replica-class <class>        replica instance class, e.g. db.t4g.medium (default: the source's class)
          --replica-id <id>              replica identifier (default: <instance>-prequel-replica; Aurora: <cluster>-prequel-reader)
          --replica-subnet-group <name>  DB subnet group for the replica, in the source's VPC (default: the source's)
          --schemas <s1,s2>              schemas to share (default: public, or the schemas of --tables)
          --tables <schema.table,...>    share only these tables (default: every table of the schemas)
          --user <name>                  read-only PostgreSQL role to create (default: prequel_reader)
          --source-name <name>           Prequel source name, spaces allowed, no quotes (default: <db>)
          --security-group <sg-id>       put the rules on this group of the target (default: a dedicated group)
          --reader <instance-id>         Aurora only: use this existing reader of the cluster (default: the writer)
        Options also work as --option=value. PostgreSQL names are lower case: [a-z_][a-z0-9_]{0,62}.
        Onboarding ids look like ob-7k2m9q.

        Example: connect orders-db --replica --replica-class db.t4g.medium --schemas public,sales --source-name Orders EU
        """;

    /// <summary>
    /// Parses <paramref name="text"/> (the text after <c>/prequel</c>, or a Teams message with the mention
    /// removed). Empty text means <c>help</c>. Never throws for any input.
    /// </summary>
    public static ParseResult Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return ParseResult.Success(new HelpCommand());
        }

        var error = CommandTokenizer.Tokenize(text, out var words);
        if (error is not null)
        {
            return ParseResult.Failure(error);
        }

        if (words.Count == 0)
        {
            return ParseResult.Success(new HelpCommand());
        }

        var verb = words[0].ToLowerInvariant();
        IReadOnlyList<string> arguments = words.Skip(1).ToList();
        return verb switch
        {
            CommandUsage.Connect or CommandUsage.Plan => ParseOnboarding(verb, arguments),
            CommandUsage.Status => ParseStatus(arguments),
            CommandUsage.Cancel => ParseOnboardingId(verb, arguments, id => new CancelCommand(id)),
            CommandUsage.Retry => ParseOnboardingId(verb, arguments, id => new RetryCommand(id)),
            CommandUsage.Disconnect => ParseDisconnect(arguments),
            CommandUsage.Rotate => ParseDatabaseOnly(CommandUsage.Rotate, arguments, name => new RotateCommand(name)),
            CommandUsage.Check => ParseDatabaseOnly(CommandUsage.Check, arguments, name => new CheckCommand(name)),
            CommandUsage.Audit => ParseOnboardingId(verb, arguments, id => new AuditCommand(id)),
            CommandUsage.Help or "--help" => ParseHelp(arguments),
            _ => ParseResult.Failure(
                $"Unknown command '{CommandTokenizer.Shorten(words[0])}'{ClosestWord.Hint(verb, CommandUsage.Commands)}. Try: help"),
        };
    }

    private static ParseResult ParseOnboarding(string verb, IReadOnlyList<string> arguments)
    {
        var error = OnboardingArgumentsReader.Read(verb, arguments, out var database, out var options);
        if (error is not null)
        {
            return ParseResult.Failure(error);
        }

        return ParseResult.Success(verb == CommandUsage.Connect
            ? new ConnectCommand(database, options)
            : new PlanCommand(database, options));
    }

    /// <summary><c>rotate &lt;db&gt;</c>, <c>check &lt;db&gt;</c>: one database name, no options.</summary>
    private static ParseResult ParseDatabaseOnly(string verb, IReadOnlyList<string> arguments, Func<string, BotCommand> build)
    {
        var usage = CommandUsage.For(verb);
        if (arguments.FirstOrDefault(a => a.StartsWith('-')) is { } option)
            return ParseResult.Failure($"Unknown option {CommandTokenizer.Shorten(option)} for {verb}: it takes no options. Usage: {usage}");
        if (arguments.Count == 0) return ParseResult.Failure($"Missing database name. Usage: {usage}");
        if (arguments.Count > 1) return ParseResult.Failure($"Unexpected argument '{CommandTokenizer.Shorten(arguments[1])}': {verb} takes one database name. Usage: {usage}");
        var name = arguments[0].ToLowerInvariant();
        return Identifiers.RdsInstanceIdentifierProblem(name) is { } problem
            ? ParseResult.Failure($"Invalid database name '{CommandTokenizer.Shorten(arguments[0])}': it {problem} (RDS DB instance identifier rules). Usage: {usage}")
            : ParseResult.Success(build(name));
    }

    private static ParseResult ParseDisconnect(IReadOnlyList<string> arguments)
    {
        var usage = CommandUsage.For(CommandUsage.Disconnect);
        string[] options = [CommandUsage.KeepReplica, CommandUsage.FinalSnapshot];
        string? database = null;
        var keepReplica = false;
        var finalSnapshot = false;
        foreach (var word in arguments)
        {
            if (word.StartsWith('-'))
            {
                if (string.Equals(word, CommandUsage.KeepReplica, StringComparison.OrdinalIgnoreCase)) keepReplica = true;
                else if (string.Equals(word, CommandUsage.FinalSnapshot, StringComparison.OrdinalIgnoreCase)) finalSnapshot = true;
                else return ParseResult.Failure($"Unknown option {CommandTokenizer.Shorten(word)} for disconnect{ClosestWord.Hint(word.ToLowerInvariant(), options)}. Usage: {usage}");
                continue;
            }
            if (database is not null)
            {
                return ParseResult.Failure($"Unexpected argument '{CommandTokenizer.Shorten(word)}': disconnect takes one database name. Usage: {usage}");
            }
            var name = word.ToLowerInvariant();
            if (Identifiers.RdsInstanceIdentifierProblem(name) is { } problem)
            {
                return ParseResult.Failure($"Invalid database name '{CommandTokenizer.Shorten(word)}': it {problem} (RDS DB instance identifier rules). Usage: {usage}");
            }
            database = name;
        }
        if (keepReplica && finalSnapshot)
        {
            return ParseResult.Failure($"{CommandUsage.FinalSnapshot} and {CommandUsage.KeepReplica} cannot be combined: a final snapshot is taken only of a replica that is deleted. Usage: {usage}");
        }
        return database is null
            ? ParseResult.Failure($"Missing database name. Usage: {usage}")
            : ParseResult.Success(new DisconnectCommand(database, keepReplica) { FinalSnapshot = finalSnapshot });
    }

    private static ParseResult ParseStatus(IReadOnlyList<string> arguments)
    {
        if (arguments.Count == 0)
        {
            return ParseResult.Success(new StatusCommand(null));
        }

        return ParseOnboardingId(CommandUsage.Status, arguments, id => new StatusCommand(id));
    }

    private static ParseResult ParseOnboardingId(string verb, IReadOnlyList<string> arguments, Func<string, BotCommand> create)
    {
        var usage = CommandUsage.For(verb);
        var option = arguments.FirstOrDefault(a => a.StartsWith('-'));
        if (option is not null)
        {
            return ParseResult.Failure($"Unknown option {CommandTokenizer.Shorten(option)} for {verb}: it takes no options. Usage: {usage}");
        }

        if (arguments.Count == 0)
        {
            return ParseResult.Failure($"Missing onboarding id. Usage: {usage}");
        }

        if (arguments.Count > 1)
        {
            return ParseResult.Failure($"Unexpected argument '{CommandTokenizer.Shorten(arguments[1])}': {verb} takes one onboarding id. Usage: {usage}");
        }

        var id = arguments[0].ToLowerInvariant();
        var problem = Identifiers.OnboardingIdProblem(id);
        return problem is null
            ? ParseResult.Success(create(id))
            : ParseResult.Failure($"Invalid onboarding id '{CommandTokenizer.Shorten(arguments[0])}': it {problem}. Usage: {usage}");
    }

    private static ParseResult ParseHelp(IReadOnlyList<string> arguments) =>
        arguments.Count == 0
            ? ParseResult.Success(new HelpCommand())
            : ParseResult.Failure($"Unexpected argument '{CommandTokenizer.Shorten(arguments[0])}': help takes no arguments. Usage: help");
}

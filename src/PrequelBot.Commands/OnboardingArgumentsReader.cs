namespace PrequelBot.Commands;

/// <summary>
/// Reads the arguments of <c>connect</c> and <c>plan</c>: one database name and the options of the README, "The command language",
/// in any order, as <c>--option value</c> or <c>--option=value</c>. Every value is validated here.
/// </summary>
internal sealed class OnboardingArgumentsReader
{
    public const string Replica = "--replica";
    public const string ReplicaClass = "--replica-class";
    public const string ReplicaId = "--replica-id";
    public const string ReplicaSubnetGroup = "--replica-subnet-group";
    public const string SecurityGroup = "--security-group";
    public const string Schemas = "--schemas";
    public const string Tables = "--tables";
    public const string User = "--user";
    public const string SourceName = "--source-name";
    public const string Reader = "--reader";

    private static readonly string[] KnownOptions = [Replica, ReplicaClass, ReplicaId, ReplicaSubnetGroup, Schemas, Tables, User, SourceName, SecurityGroup, Reader];

    private readonly string _verb;
    private readonly IReadOnlyList<string> _words;
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private int _next;

    private string? _database;
    private bool _replica;
    private string? _replicaClass;
    private string? _replicaId;
    private string? _replicaSubnetGroup;
    private string? _securityGroup;
    private string? _reader;
    private List<string>? _schemas;
    private List<TableName>? _tables;
    private string? _user;
    private string? _sourceName;

    private OnboardingArgumentsReader(string verb, IReadOnlyList<string> words)
    {
        _verb = verb;
        _words = words;
    }

    /// <summary>Returns null with the database and options, or a one-line error.</summary>
    public static string? Read(string verb, IReadOnlyList<string> words, out string database, out OnboardingOptions options)
    {
        var reader = new OnboardingArgumentsReader(verb, words);
        var error = reader.ReadAll();
        database = reader._database ?? "";
        options = error is null ? reader.Build() : new OnboardingOptions();
        return error;
    }

    private string Usage => CommandUsage.For(_verb);

    private string? ReadAll()
    {
        while (_next < _words.Count)
        {
            var word = _words[_next++];
            var error = word.StartsWith('-') ? ReadOption(word) : ReadDatabase(word);
            if (error is not null)
            {
                return error;
            }
        }

        if (_database is null)
        {
            return $"Missing database name. Usage: {_verb} <db> [options]";
        }

        if (!_replica && (_replicaClass is not null || _replicaId is not null || _replicaSubnetGroup is not null))
        {
            var option = _replicaClass is not null ? ReplicaClass : _replicaId is not null ? ReplicaId : ReplicaSubnetGroup;
            return $"{option} only applies to a read replica: add --replica. Usage: {Usage}";
        }

        if (_replica && _reader is not null)
        {
            return $"{Reader} and {Replica} exclude each other: --reader uses an existing Aurora reader, --replica adds a new one. Usage: {Usage}";
        }

        return CheckTablesAgainstSchemas();
    }

    private string? ReadDatabase(string word)
    {
        if (_database is not null)
        {
            return $"Unexpected argument '{CommandTokenizer.Shorten(word)}': {_verb} takes one database name. Usage: {Usage}";
        }

        var name = word.ToLowerInvariant();
        var problem = Identifiers.RdsInstanceIdentifierProblem(name);
        if (problem is not null)
        {
            return $"Invalid database name '{CommandTokenizer.Shorten(word)}': it {problem} (RDS DB instance identifier rules). Usage: {_verb} <db> [options]";
        }

        _database = name;
        return null;
    }

    private string? ReadOption(string word)
    {
        var equals = word.IndexOf('=', StringComparison.Ordinal);
        var option = (equals < 0 ? word : word[..equals]).ToLowerInvariant();
        var inlineValue = equals < 0 ? null : word[(equals + 1)..];

        if (Array.IndexOf(KnownOptions, option) < 0)
        {
            return $"Unknown option {CommandTokenizer.Shorten(option)} for {_verb}{ClosestWord.Hint(option, KnownOptions)}. Try: {Usage}";
        }

        if (!_seen.Add(option))
        {
            return $"{option} given twice. Usage: {Usage}";
        }

        if (option == Replica)
        {
            if (inlineValue is not null)
            {
                return $"--replica takes no value (found '{CommandTokenizer.Shorten(word)}'). Usage: {Usage}";
            }

            _replica = true;
            return null;
        }

        var value = inlineValue ?? TakeValueWord();
        if (string.IsNullOrEmpty(value))
        {
            return $"Missing value for {option}. Usage: {Usage}";
        }

        return option switch
        {
            ReplicaClass => SetReplicaClass(value),
            ReplicaId => SetReplicaId(value),
            ReplicaSubnetGroup => SetReplicaSubnetGroup(value),
            SecurityGroup => SetSecurityGroup(value),
            Reader => SetReader(value),
            Schemas => SetSchemas(TakeListContinuation(value)),
            Tables => SetTables(TakeListContinuation(value)),
            User => SetUser(value),
            _ => SetSourceName(TakeSourceNameContinuation(value)),
        };
    }

    private string? TakeValueWord()
    {
        if (_next < _words.Count && !_words[_next].StartsWith('-'))
        {
            return _words[_next++];
        }

        return null;
    }

    /// <summary>"--schemas a, b" arrives as "a," and "b": a value ending with a comma continues in the next word.</summary>
    private string TakeListContinuation(string value)
    {
        while (value.EndsWith(',') && _next < _words.Count && !_words[_next].StartsWith('-'))
        {
            value += _words[_next++];
        }

        return value;
    }

    /// <summary>A source name may contain spaces and needs no quotes: it runs until the next option.</summary>
    private string TakeSourceNameContinuation(string value)
    {
        while (_next < _words.Count && !_words[_next].StartsWith("--", StringComparison.Ordinal))
        {
            value += " " + _words[_next++];
        }

        return value;
    }

    private string? SetReplicaClass(string value)
    {
        var name = value.ToLowerInvariant();
        var problem = Identifiers.InstanceClassProblem(name);
        if (problem is not null)
        {
            return $"Invalid {ReplicaClass} '{CommandTokenizer.Shorten(value)}': it {problem}.";
        }

        _replicaClass = name;
        return null;
    }

    private string? SetReplicaId(string value)
    {
        var name = value.ToLowerInvariant();
        var problem = Identifiers.RdsInstanceIdentifierProblem(name);
        if (problem is not null)
        {
            return $"Invalid {ReplicaId} '{CommandTokenizer.Shorten(value)}': it {problem} (RDS DB instance identifier rules).";
        }

        _replicaId = name;
        return null;
    }

    private string? SetReader(string value)
    {
        var name = value.ToLowerInvariant();
        var problem = Identifiers.RdsInstanceIdentifierProblem(name);
        if (problem is not null)
        {
            return $"Invalid {Reader} '{CommandTokenizer.Shorten(value)}': it {problem} (RDS DB instance identifier rules).";
        }

        _reader = name;
        return null;
    }

    private string? SetReplicaSubnetGroup(string value)
    {
        var name = value.ToLowerInvariant();
        var problem = Identifiers.DbSubnetGroupNameProblem(name);
        if (problem is not null)
        {
            return $"Invalid {ReplicaSubnetGroup} '{CommandTokenizer.Shorten(value)}': it {problem}.";
        }

        _replicaSubnetGroup = name;
        return null;
    }

    private string? SetSecurityGroup(string value)
    {
        var id = value.ToLowerInvariant();
        var problem = Identifiers.SecurityGroupIdProblem(id);
        if (problem is not null)
        {
            return $"Invalid {SecurityGroup} '{CommandTokenizer.Shorten(value)}': it {problem}.";
        }

        _securityGroup = id;
        return null;
    }

    private string? SetSchemas(string value)
    {
        var schemas = new List<string>();
        foreach (var schema in value.Split(','))
        {
            if (schema.Length == 0)
            {
                return $"Empty schema name in {Schemas} '{CommandTokenizer.Shorten(value)}': separate names with single commas, e.g. --schemas public,sales.";
            }

            var problem = Identifiers.SchemaNameProblem(schema);
            if (problem is not null)
            {
                return $"Invalid schema name '{CommandTokenizer.Shorten(schema)}' in {Schemas}: it {problem}.";
            }

            if (!schemas.Contains(schema))
            {
                schemas.Add(schema);
            }
        }

        _schemas = schemas;
        return null;
    }

    private string? SetTables(string value)
    {
        var tables = new List<TableName>();
        foreach (var entry in value.Split(','))
        {
            if (entry.Length == 0)
            {
                return $"Empty table name in {Tables} '{CommandTokenizer.Shorten(value)}': separate names with single commas, e.g. --tables public.orders,sales.invoices.";
            }

            var parts = entry.Split('.');
            if (parts.Length != 2)
            {
                return $"Table '{CommandTokenizer.Shorten(entry)}' in {Tables} must be written schema.table, e.g. public.orders.";
            }

            var schemaProblem = Identifiers.SchemaNameProblem(parts[0]);
            if (schemaProblem is not null)
            {
                return $"Invalid schema name '{CommandTokenizer.Shorten(parts[0])}' in {Tables} entry '{CommandTokenizer.Shorten(entry)}': it {schemaProblem}.";
            }

            var tableProblem = Identifiers.PostgresIdentifierProblem(parts[1]);
            if (tableProblem is not null)
            {
                return $"Invalid table name '{CommandTokenizer.Shorten(parts[1])}' in {Tables} entry '{CommandTokenizer.Shorten(entry)}': it {tableProblem}.";
            }

            var table = new TableName(parts[0], parts[1]);
            if (!tables.Contains(table))
            {
                tables.Add(table);
            }
        }

        _tables = tables;
        return null;
    }

    private string? SetUser(string value)
    {
        var problem = Identifiers.RoleNameProblem(value);
        if (problem is not null)
        {
            return $"Invalid {User} '{CommandTokenizer.Shorten(value)}': it {problem}.";
        }

        _user = value;
        return null;
    }

    private string? SetSourceName(string value)
    {
        var problem = Identifiers.SourceNameProblem(value);
        if (problem is not null)
        {
            return $"Invalid {SourceName} '{CommandTokenizer.Shorten(value)}': it {problem}.";
        }

        _sourceName = value;
        return null;
    }

    private string? CheckTablesAgainstSchemas()
    {
        if (_tables is null || _schemas is null)
        {
            return null;
        }

        foreach (var table in _tables)
        {
            if (!_schemas.Contains(table.Schema))
            {
                return $"Table {table} is in schema {table.Schema}, which is not in {Schemas} ({string.Join(',', _schemas)}): add it or leave out {Schemas}.";
            }
        }

        return null;
    }

    private OnboardingOptions Build()
    {
        var tables = _tables ?? [];
        var schemas = _schemas
                      ?? (tables.Count > 0 ? tables.Select(t => t.Schema).Distinct(StringComparer.Ordinal).ToList() : null);
        return new OnboardingOptions
        {
            Replica = _replica,
            ReplicaClass = _replicaClass,
            ReplicaId = _replicaId,
            ReplicaSubnetGroup = _replicaSubnetGroup,
            Schemas = schemas ?? [OnboardingOptions.DefaultSchema],
            Tables = tables,
            User = _user ?? OnboardingOptions.DefaultUser,
            SourceName = _sourceName,
            SecurityGroupId = _securityGroup,
            Reader = _reader,
        };
    }
}

namespace PrequelBot.Workflows.Ports;

/// <summary>
/// One integration's configuration state, logged once at start-up ("Slack: configured" / "Slack: not
/// configured (set Slack:SigningSecret and Slack:BotToken)"). Never include a secret value in <see cref="Detail"/>.
/// </summary>
public interface IIntegrationStatus
{
    /// <summary>Display name, e.g. "Slack".</summary>
    string Name { get; }

    bool IsConfigured { get; }

    /// <summary>What is missing or which endpoint is used; no secrets.</summary>
    string Detail { get; }
}

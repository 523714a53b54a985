using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Chat.Teams;

/// <summary>
/// Turns an authenticated activity into work: command text → <see cref="IChatCommandHandler"/> and a reply; an
/// Action.Submit click → <see cref="IApprovalDecider"/>; the bot being added → a welcome. Replies go to the activity's
/// serviceUrl only.
/// </summary>
internal sealed partial class TeamsActivityProcessor(
    IChatCommandHandler commands, IApprovalDecider approvals, ConnectorClient connector,
    IOptions<TeamsOptions> options, ILogger<TeamsActivityProcessor> logger)
{
    /// <summary>Posted when the bot is added to a conversation: what it does, then the command help.</summary>
    public static readonly string WelcomeText =
        "Hi, I'm PrequelBot. I connect RDS/Aurora PostgreSQL databases to Prequel, asking an approver before every change. " +
        "Mention me first in channels.\n" + PrequelBot.Commands.CommandParser.HelpText;

    public const string CommandFailedText = "Sorry, PrequelBot could not run that command. The operators can find the details in its logs.";

    public async Task ProcessAsync(Activity activity, CancellationToken cancellationToken)
    {
        switch (activity.Type)
        {
            case ActivityTypes.Message when IsSubmit(activity.Value, out var action, out var approvalId):
                await DecideAsync(activity, action, approvalId, cancellationToken).ConfigureAwait(false);
                break;
            case ActivityTypes.Message:
                await RunCommandAsync(activity, cancellationToken).ConfigureAwait(false);
                break;
            case ActivityTypes.ConversationUpdate when activity.MembersAdded?.Any(m => m.Id is not null && m.Id == activity.Recipient?.Id) == true:
                await ReplyAsync(activity, WelcomeText, null, reply: false, cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private async Task RunCommandAsync(Activity activity, CancellationToken cancellationToken)
    {
        var text = MessageText.ToCommandText(activity);
        if (text.Length == 0) return;
        var user = User(activity);
        var conversation = new ConversationRef(ChatPlatforms.Teams, activity.Conversation!.Id!, TeamsAdapterData.FromActivity(activity).ToJson());
        LogCommand(logger, user.Id, conversation.ConversationId);
        CommandReply reply;
        try
        {
            reply = await commands.HandleAsync(new ChatRequest(user, conversation, text), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The handler promises not to throw for user input; anything else is ours. Say so without details.
            LogCommandFailed(logger, conversation.ConversationId, ex);
            reply = CommandReply.Error(CommandFailedText);
        }
        var card = reply.Checklist is { } checklist ? AdaptiveCards.Onboarding(checklist)
            : reply.Plan is { } plan ? AdaptiveCards.Plan(plan)
            : reply.Onboardings is { } list ? AdaptiveCards.Onboardings(list)
            : null;
        await ReplyAsync(activity, card is null ? reply.Text : null, card, reply: true, cancellationToken).ConfigureAwait(false);
    }

    private async Task DecideAsync(Activity activity, string action, string approvalId, CancellationToken cancellationToken)
    {
        var actor = User(activity);
        var result = await approvals.DecideAsync(approvalId, actor, action == ApprovalActions.Approve, cancellationToken).ConfigureAwait(false);
        LogDecision(logger, approvalId, actor.Id, result.Outcome);
        // Recorded: the outbox updates the prompt in place. Teams has no ephemeral channel messages, so refusals are a reply.
        if (result.Outcome != DecisionOutcome.Recorded)
            await ReplyAsync(activity, result.Message, null, reply: true, cancellationToken).ConfigureAwait(false);
    }

    private Task<string> ReplyAsync(Activity activity, string? text, JsonObject? card, bool reply, CancellationToken cancellationToken)
    {
        var conversationId = activity.Conversation!.Id!;
        var botId = activity.Recipient?.Id ?? "28:" + options.Value.AppId;
        var message = AdaptiveCards.Message(botId, conversationId, text, card);
        return reply && activity.Id is { Length: > 0 } id
            ? connector.ReplyAsync(activity.ServiceUrl!, conversationId, id, message, cancellationToken)
            : connector.SendAsync(activity.ServiceUrl!, conversationId, message, cancellationToken);
    }

    /// <summary>
    /// A Teams user is their AAD object id (docs/security.md, "Identities"). Without one, <c>from.id</c> (29:…) names them
    /// in logs and replies, but they can only read: <see cref="ChatUser.CanOnlyRead"/>.
    /// </summary>
    internal static ChatUser User(Activity activity) =>
        activity.From?.AadObjectId is { Length: > 0 } aad && Guid.TryParse(aad, out var guid)
            ? new(ChatPlatforms.Teams, guid.ToString("D"), activity.From.Name)
            : new(ChatPlatforms.Teams, activity.From?.Id ?? "unknown", activity.From?.Name) { CanOnlyRead = true };

    private static bool IsSubmit(JsonElement? value, out string action, out string approvalId)
    {
        action = approvalId = "";
        if (value is not { ValueKind: JsonValueKind.Object } v) return false;
        if (!v.TryGetProperty("action", out var a) || a.ValueKind != JsonValueKind.String) return false;
        if (!v.TryGetProperty("approvalId", out var id) || id.ValueKind != JsonValueKind.String) return false;
        action = a.GetString()!;
        approvalId = id.GetString()!;
        return action is ApprovalActions.Approve or ApprovalActions.Reject && approvalId.Length > 0;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Teams command from {UserId} in {ConversationId}")]
    private static partial void LogCommand(ILogger logger, string userId, string conversationId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Teams command in {ConversationId} failed")]
    private static partial void LogCommandFailed(ILogger logger, string conversationId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Teams click on approval {ApprovalId} by {UserId}: {Outcome}")]
    private static partial void LogDecision(ILogger logger, string approvalId, string userId, DecisionOutcome outcome);
}

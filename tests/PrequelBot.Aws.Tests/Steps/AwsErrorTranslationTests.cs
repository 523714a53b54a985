using System.Net;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Rds;
using PrequelBot.Aws.Steps;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Tests.Steps;

public class AwsErrorTranslationTests
{
    private const string DeniedText =
        "User: arn:aws:sts::123456789012:assumed-role/prequelbot/i-0abc is not authorized to perform: rds:ModifyDBInstance " +
        "on resource: arn:aws:rds:eu-west-1:123456789012:db:orders because no identity-based policy allows the rds:ModifyDBInstance action";

    private readonly ListLogger _log = new();

    private static RdsServiceException Error(string code, HttpStatusCode status, string? message = null) =>
        new(message ?? $"{code} happened", null, ErrorType.Sender, code, "req-1", status);

    [Fact]
    public void Access_denied_reaches_chat_as_its_code_and_a_short_message_without_arn_or_account_and_the_log_has_it_all()
    {
        var translated = AwsStepSupport.Translate(Error("AccessDenied", HttpStatusCode.Forbidden, DeniedText), "ModifyDBInstance", _log);

        var failure = Assert.IsType<StepFailedException>(translated);
        Assert.Equal(
            "AWS ModifyDBInstance failed: AccessDenied: User: <arn> is not authorized to perform: rds:ModifyDBInstance on resource: <arn> " +
            "because no identity-based policy allows the rds:ModifyDBInstance action (check the bot's AWS credentials and IAM policy)", failure.Message);
        Assert.DoesNotContain("123456789012", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("arn:aws", failure.Message, StringComparison.Ordinal);
        var logged = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Contains(DeniedText, logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_permanent_fault_fails_the_step_with_aws_message()
    {
        var translated = AwsStepSupport.Translate(Error("InstanceQuotaExceeded", HttpStatusCode.BadRequest), "CreateDBInstanceReadReplica", _log);

        Assert.Equal("AWS CreateDBInstanceReadReplica failed: InstanceQuotaExceeded: InstanceQuotaExceeded happened", Assert.IsType<StepFailedException>(translated).Message);
    }

    [Theory]
    [InlineData("Throttling", HttpStatusCode.BadRequest)]
    [InlineData("InternalFailure", HttpStatusCode.InternalServerError)]
    [InlineData("SomethingNew", HttpStatusCode.ServiceUnavailable)]
    public void Throttling_and_server_errors_stay_transient_for_the_engine_to_retry(string code, HttpStatusCode status)
    {
        var error = Error(code, status);

        Assert.Same(error, AwsStepSupport.Translate(error, "DescribeDBInstances", _log));
    }

    [Theory]
    [InlineData("arn:aws:rds:us-east-1:123456789012:db:orders not found", "<arn> not found")]
    [InlineData("Not authorized (arn:aws-us-gov:iam::123456789012:role/x)", "Not authorized (<arn>)")]
    [InlineData("ARN:AWS-CN:ec2:cn-north-1:123456789012:security-group/sg-1, denied", "<arn>, denied")]
    [InlineData("account 123456789012 has reached its quota", "account <account> has reached its quota")]
    [InlineData("request 1234567890123 and port 5432 stay", "request 1234567890123 and port 5432 stay")]
    [InlineData("You are not authorized to perform this operation. Encoded authorization failure message: AbC-123_xyz",
        "You are not authorized to perform this operation. (encoded authorization message in the PrequelBot log)")]
    [InlineData("  spread\n over\tlines  ", "spread over lines")]
    [InlineData(null, "no message")]
    public void The_sanitizer_removes_arns_account_ids_and_encoded_messages(string? input, string expected)
    {
        Assert.Equal(expected, AwsErrorText.Sanitize(input));
    }

    [Fact]
    public void The_sanitizer_keeps_chat_messages_short()
    {
        var sanitized = AwsErrorText.Sanitize(string.Join(' ', Enumerable.Repeat("word", 200)));

        Assert.Equal(AwsErrorText.MaxLength, sanitized.Length);
        Assert.EndsWith("…", sanitized, StringComparison.Ordinal);
    }
}

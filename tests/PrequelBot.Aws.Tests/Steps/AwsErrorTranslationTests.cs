using System.Net;
using Amazon.Runtime;
using PrequelBot.Aws.Rds;
using PrequelBot.Aws.Steps;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Tests.Steps;

public class AwsErrorTranslationTests
{
    private static RdsServiceException Error(string code, HttpStatusCode status) =>
        new($"{code} happened", null, ErrorType.Sender, code, "req-1", status);

    [Fact]
    public void Access_denied_fails_the_step_naming_the_action_and_the_fix()
    {
        var translated = AwsStepSupport.Translate(Error("AccessDenied", HttpStatusCode.Forbidden), "ModifyDBInstance");

        var failure = Assert.IsType<StepFailedException>(translated);
        Assert.Equal("AWS ModifyDBInstance failed: AccessDenied: AccessDenied happened (check the bot's AWS credentials and IAM policy)", failure.Message);
    }

    [Fact]
    public void A_permanent_fault_fails_the_step_with_aws_message()
    {
        var translated = AwsStepSupport.Translate(Error("InstanceQuotaExceeded", HttpStatusCode.BadRequest), "CreateDBInstanceReadReplica");

        Assert.Equal("AWS CreateDBInstanceReadReplica failed: InstanceQuotaExceeded: InstanceQuotaExceeded happened", Assert.IsType<StepFailedException>(translated).Message);
    }

    [Theory]
    [InlineData("Throttling", HttpStatusCode.BadRequest)]
    [InlineData("InternalFailure", HttpStatusCode.InternalServerError)]
    [InlineData("SomethingNew", HttpStatusCode.ServiceUnavailable)]
    public void Throttling_and_server_errors_stay_transient_for_the_engine_to_retry(string code, HttpStatusCode status)
    {
        var error = Error(code, status);

        Assert.Same(error, AwsStepSupport.Translate(error, "DescribeDBInstances"));
    }
}

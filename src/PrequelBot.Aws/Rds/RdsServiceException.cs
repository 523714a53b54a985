using System.Net;
using Amazon.Runtime;

namespace PrequelBot.Aws.Rds;

/// <summary>An error answered by Amazon RDS, with AWS's <see cref="AmazonServiceException.ErrorCode"/> and message.</summary>
public sealed class RdsServiceException : AmazonServiceException
{
    public RdsServiceException(string message, Exception? innerException, ErrorType errorType, string? errorCode, string? requestId, HttpStatusCode statusCode)
        : base(message, innerException, errorType, errorCode, requestId, statusCode)
    {
    }

    public RdsServiceException() { }
    public RdsServiceException(string message) : base(message) { }
    public RdsServiceException(string message, Exception innerException) : base(message, innerException) { }
}

/// <summary>RDS error codes PrequelBot acts on.</summary>
public static class RdsErrorCodes
{
    public const string DBInstanceNotFound = "DBInstanceNotFound";
    public const string DBInstanceAlreadyExists = "DBInstanceAlreadyExists";
    public const string DBSubnetGroupNotFound = "DBSubnetGroupNotFoundFault";
    public const string InvalidDBInstanceState = "InvalidDBInstanceState";
    public const string DBClusterNotFound = "DBClusterNotFoundFault";
    public const string InvalidDBClusterState = "InvalidDBClusterStateFault";
    public const string DBSnapshotNotFound = "DBSnapshotNotFound";
    public const string DBSnapshotAlreadyExists = "DBSnapshotAlreadyExists";
}

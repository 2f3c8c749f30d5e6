namespace PgGate.Protocol;

/// <summary>The SQLSTATE codes PgGate sends or looks for (PostgreSQL Appendix A).</summary>
public static class SqlState
{
    public const string SuccessfulCompletion = "00000";
    public const string ConnectionException = "08000";
    public const string SqlClientUnableToEstablishSqlConnection = "08001";
    public const string SqlServerRejectedEstablishmentOfSqlConnection = "08004";
    public const string ConnectionFailure = "08006";
    public const string ProtocolViolation = "08P01";
    public const string FeatureNotSupported = "0A000";
    public const string InFailedSqlTransaction = "25P02";
    public const string InvalidAuthorizationSpecification = "28000";
    public const string InvalidPassword = "28P01";
    public const string InvalidCatalogName = "3D000";
    public const string UndefinedObject = "42704";
    public const string TooManyConnections = "53300";
    public const string ObjectNotInPrerequisiteState = "55000";
    public const string ConfigurationLimitExceeded = "53400";
    public const string QueryCanceled = "57014";
    public const string AdminShutdown = "57P01";
    public const string CannotConnectNow = "57P03";
    public const string InternalError = "XX000";
}

namespace PgGate.Protocol;

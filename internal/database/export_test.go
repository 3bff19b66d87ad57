package database

// MigrationLock is the advisory lock key of Migrate, for the test that holds
// it while instances start.
const MigrationLock = migrationLock

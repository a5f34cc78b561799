package io.onceflow.postgres;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Brings a database to the schema this version of onceflow expects, with the versioned SQL
 * migrations under {@code src/main/resources/db/migration} (Flyway). Idempotent: a database that
 * is up to date is left alone; one that is newer than this code fails with Flyway's message.
 */
public final class Migrations {

    private Migrations() {}

    /** Applies the pending migrations and returns how many ran. */
    public static int apply(PostgresEndpoint endpoint) {
        MigrateResult result =
                Flyway.configure(Migrations.class.getClassLoader())
                        .dataSource(endpoint.jdbcUrl(), endpoint.user(), endpoint.password().resolve())
                        .locations("classpath:db/migration")
                        .table("onceflow_schema_history")
                        .baselineOnMigrate(false)
                        .load()
                        .migrate();
        return result.migrationsExecuted;
    }
}

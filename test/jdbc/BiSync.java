// A BI tool's first minutes with cxkpi, through pgJDBC as Metabase, DBeaver and Power BI's
// connectors use it (test/shell/bi_jdbc.sh compiles and runs it; docs/bi.md).
//
//   java -Duser.timezone=America/New_York -cp postgresql.jar:. BiSync URL LOGIN PASSWORD PERIOD_START
//
// Logs in as a BI login made with cxkpi.create_bi_login, over TCP with its password; lists what
// Metabase's sync lists (DatabaseMetaData.getSchemas, getTables per schema, filtered with the
// privilege query of Metabase's PostgreSQL driver); checks that every listed relation opens, that
// every column has a standard JDBC type and every view and column a comment (REMARKS); reads every
// view; checks that period_start is a DATE that reads as PERIOD_START in the JVM's time zone
// (while "time", a timestamptz, moves to the evening before); and reports timings.
// Prints TAP lines without numbers ("ok - ...", "not ok - ...", "# ..."); the shell numbers them.
import java.sql.*;
import java.time.LocalDate;
import java.util.*;

public class BiSync {
    static int failed = 0;

    static void check(boolean ok, String what) {
        System.out.println((ok ? "ok - " : "not ok - ") + what);
        if (!ok) failed++;
    }

    static void note(String s) {
        System.out.println("# " + s);
    }

    static double ms(long t0) {
        return (System.nanoTime() - t0) / 1e6;
    }

    // The JDBC types a BI tool maps without a driver-specific plug-in.
    static final Set<Integer> STANDARD = Set.of(Types.BIGINT, Types.INTEGER, Types.SMALLINT, Types.DOUBLE, Types.REAL,
            Types.NUMERIC, Types.DECIMAL, Types.DATE, Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE, Types.VARCHAR,
            Types.CHAR, Types.BIT, Types.BOOLEAN);

    public static void main(String[] args) throws Exception {
        String url = args[0], login = args[1], password = args[2];
        LocalDate expected = LocalDate.parse(args[3]);
        long tAll = System.nanoTime();
        Properties p = new Properties();
        p.setProperty("user", login);
        p.setProperty("password", password);
        p.setProperty("ApplicationName", "cxkpi BiSync");
        long t0 = System.nanoTime();
        Connection c;
        try {
            c = DriverManager.getConnection(url, p);
        } catch (SQLException e) {
            check(false, "the BI login connects over TCP with its password: " + e.getMessage());
            System.exit(1);
            return;
        }
        check(true, "the BI login connects over TCP with its password (" + String.format("%.0f", ms(t0)) + " ms)");
        DatabaseMetaData md = c.getMetaData();
        note("driver " + md.getDriverName() + " " + md.getDriverVersion() + ", server " + md.getDatabaseProductVersion()
             + ", JVM time zone " + TimeZone.getDefault().getID());

        try (Statement s = c.createStatement()) {
            ResultSet r = s.executeQuery("SELECT current_setting('search_path'), current_setting('statement_timeout')");
            r.next();
            check(r.getString(1).equals("cxkpi_bi"), "its session has search_path cxkpi_bi (" + r.getString(1) + ")");
            check(r.getString(2).equals("1min"), "and statement_timeout 60 s (" + r.getString(2) + ")");
        }

        // What Metabase's sync lists: every schema of getSchemas (but the system ones), the
        // relations of getTables in each, kept when the privilege query says SELECT (and USAGE on
        // the schema).
        t0 = System.nanoTime();
        List<String> schemas = new ArrayList<>();
        try (ResultSet r = md.getSchemas()) {
            while (r.next()) schemas.add(r.getString("TABLE_SCHEM"));
        }
        Set<String> readable = new HashSet<>();
        try (Statement s = c.createStatement();
             ResultSet r = s.executeQuery(
                 "SELECT t.schemaname || '.' || t.objectname FROM ("
                 + " SELECT schemaname, tablename AS objectname FROM pg_catalog.pg_tables UNION"
                 + " SELECT schemaname, viewname FROM pg_catalog.pg_views UNION"
                 + " SELECT schemaname, matviewname FROM pg_catalog.pg_matviews) AS t"
                 + " WHERE t.schemaname !~ '^pg_' AND t.schemaname <> 'information_schema'"
                 + "   AND pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')"
                 + "   AND pg_catalog.has_table_privilege(current_user, quote_ident(t.schemaname) || '.' || quote_ident(t.objectname), 'select')")) {
            while (r.next()) readable.add(r.getString(1));
        }
        String[] types = {"TABLE", "PARTITIONED TABLE", "VIEW", "FOREIGN TABLE", "MATERIALIZED VIEW"};
        SortedSet<String> synced = new TreeSet<>();
        Map<String, Integer> listedBySchema = new TreeMap<>();
        Map<String, String> remarks = new TreeMap<>();
        for (String schema : schemas) {
            if (schema.equals("information_schema") || schema.startsWith("pg_")) continue;
            try (ResultSet r = md.getTables(null, schema, "%", types)) {
                while (r.next()) {
                    String name = schema + "." + r.getString("TABLE_NAME");
                    listedBySchema.merge(schema, 1, Integer::sum);
                    if (readable.contains(name)) {
                        synced.add(name);
                        remarks.put(name, r.getString("REMARKS"));
                    }
                }
            }
        }
        double tSync = ms(t0);
        note("getSchemas: " + schemas + "; getTables per schema: " + listedBySchema);
        note("Metabase's sync keeps " + synced.size() + " relations (" + String.format("%.0f", tSync) + " ms)");
        check(!synced.isEmpty() && synced.stream().allMatch(n -> n.startsWith("cxkpi_bi.")),
              "everything Metabase's sync keeps is in schema cxkpi_bi");
        List<String> biViews = new ArrayList<>();
        try (ResultSet r = md.getTables(null, "cxkpi_bi", "%", null)) {
            while (r.next()) biViews.add("cxkpi_bi." + r.getString("TABLE_NAME") + ":" + r.getString("TABLE_TYPE"));
        }
        check(biViews.stream().allMatch(v -> v.endsWith(":VIEW")) && biViews.size() == synced.size(),
              "getTables lists only views in cxkpi_bi (" + biViews.size() + "), and Metabase keeps every one of them");
        check(remarks.values().stream().allMatch(x -> x != null && !x.isBlank()),
              "every view has a comment (REMARKS of getTables)");
        try (ResultSet r = md.getTables(null, "cxkpi", "%", null)) {
            int n = 0;
            while (r.next()) n++;
            note("getTables still lists " + n + " objects in schema cxkpi (pg_class is readable by everyone); "
                 + "Metabase drops them: the login has no USAGE on cxkpi");
        }

        // Columns: standard types and comments (getColumns), then every view opens and reads.
        List<String> badTypes = new ArrayList<>(), noRemarks = new ArrayList<>(), failedOpen = new ArrayList<>();
        int columns = 0;
        long rowsRead = 0;
        double slowest = 0;
        String slowestView = "";
        StringBuilder timings = new StringBuilder();
        for (String name : synced) {
            String schema = name.substring(0, name.indexOf('.')), table = name.substring(name.indexOf('.') + 1);
            try (ResultSet r = md.getColumns(null, schema, table, "%")) {
                while (r.next()) {
                    columns++;
                    String col = table + "." + r.getString("COLUMN_NAME");
                    if (!STANDARD.contains(r.getInt("DATA_TYPE"))) badTypes.add(col + " " + r.getString("TYPE_NAME"));
                    String rem = r.getString("REMARKS");
                    if (rem == null || rem.isBlank()) noRemarks.add(col);
                }
            }
            t0 = System.nanoTime();
            try (Statement s = c.createStatement()) {
                // Metabase's probe, then a sample read as its table preview does
                s.execute("SELECT TRUE AS \"_\" FROM \"" + schema + "\".\"" + table + "\" WHERE 1 <> 1 LIMIT 0");
                ResultSet r = s.executeQuery("SELECT * FROM \"" + schema + "\".\"" + table + "\" LIMIT 2000");
                ResultSetMetaData rm = r.getMetaData();
                for (int i = 1; i <= rm.getColumnCount(); i++)
                    if (!STANDARD.contains(rm.getColumnType(i)))
                        badTypes.add(table + "." + rm.getColumnName(i) + " " + rm.getColumnTypeName(i) + " (result set)");
                while (r.next()) {
                    for (int i = 1; i <= rm.getColumnCount(); i++) r.getObject(i);
                    rowsRead++;
                }
            } catch (SQLException e) {
                failedOpen.add(table + ": " + e.getSQLState() + " " + e.getMessage());
            }
            double t = ms(t0);
            timings.append(String.format(" %s %.0f", table, t));
            if (t > slowest) { slowest = t; slowestView = table; }
        }
        check(failedOpen.isEmpty(), "every relation Metabase lists opens and reads (" + synced.size() + " views, "
              + rowsRead + " rows)" + (failedOpen.isEmpty() ? "" : ": " + failedOpen));
        check(badTypes.isEmpty(), "every column (" + columns + ") has a standard JDBC type" + (badTypes.isEmpty() ? "" : ": " + badTypes));
        check(noRemarks.isEmpty(), "every column has a comment (REMARKS of getColumns)" + (noRemarks.isEmpty() ? "" : ": " + noRemarks));
        note("ms per view (probe + read of up to 2000 rows):" + timings);

        // The period key: period_start is a DATE, the same day in any JVM time zone; time is a
        // timestamptz at midnight in the dashboard's time zone, which a JVM in New York shows as
        // the evening before.
        try (PreparedStatement s = c.prepareStatement(
                 "SELECT period_start, \"time\" FROM kpi_scorecard WHERE kpi = ? AND breakdown = 'total'")) {
            s.setString(1, "nps");
            ResultSet r = s.executeQuery();
            check(r.next(), "the scorecard reads unqualified (search_path cxkpi_bi)");
            ResultSetMetaData rm = r.getMetaData();
            check(rm.getColumnType(1) == Types.DATE, "period_start is a DATE (" + rm.getColumnTypeName(1) + ")");
            LocalDate ld = r.getObject(1, LocalDate.class);
            java.sql.Date d = r.getDate(1);
            check(ld.equals(expected) && d.toString().equals(expected.toString()),
                  "period_start reads as " + expected + " in " + TimeZone.getDefault().getID()
                  + " (getObject: " + ld + ", getDate: " + d + ")");
            Timestamp ts = r.getTimestamp(2);
            note("time reads as " + ts + " in " + TimeZone.getDefault().getID() + ": the day before period_start"
                 + " west of the dashboard's time zone, which is why period_start is the key");
            if (TimeZone.getDefault().getID().equals("America/New_York"))
                check(ts.toLocalDateTime().toLocalDate().equals(expected.minusDays(1)),
                      "time shows the evening before in New York (" + ts + "), as documented");
        }

        // Read-only: nothing outside cxkpi_bi.
        try (Statement s = c.createStatement()) {
            s.executeQuery("SELECT 1 FROM cxkpi.orders LIMIT 1");
            check(false, "the raw tables are out of reach");
        } catch (SQLException e) {
            check("42501".equals(e.getSQLState()), "the raw tables are out of reach (" + e.getSQLState() + ")");
        }
        c.close();
        note(String.format("timings: sync %.0f ms, slowest view %s %.0f ms, whole run %.0f ms", tSync, slowestView,
                           slowest, ms(tAll)));
        System.exit(failed == 0 ? 0 : 1);
    }
}

package dev.flock.config;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code FLOCK_REDIS_URL} taken apart by hand, so each bad case gets its own message. java.net.URI (which the Vert.x
 * Redis client's {@code RedisURI} uses) cannot tell a bad port from a bad host, and refuses {@code _} in host
 * names, which Docker Compose service names may hold; such a host is resolved by Flock before each connect
 * ({@link #clientUrl(String)}). Messages never echo the URL, the user or the password.
 *
 * <p>Two layouts: one Redis ({@code redis://}, {@code rediss://}), or a primary found through Sentinel
 * ({@code redis-sentinel://[user:password@]s1:26379,s2:26379/mymaster[/db]}, issue 23), whose user and password
 * authenticate to the sentinels and to the primary alike (the Vert.x client gives the primary the sentinels'
 * credentials); {@code rediss-sentinel://} speaks TLS to both. Or a Redis Cluster
 * ({@code redis-cluster://[user:password@]host1:6379,host2:6379}, issue 23): any of its nodes (the others are
 * discovered); a cluster has database 0 only, so the path may name no other.
 *
 * @param kind       which layout
 * @param tls        {@code rediss://} or {@code rediss-sentinel://}
 * @param userInfo   the raw (percent-encoded) {@code user:password}, or null
 * @param endpoints  the one Redis, the sentinels, or the cluster's seed nodes (at least one)
 * @param masterName the Sentinel master set's name; null for one Redis
 * @param db         the database of the path, 0 when none
 */
public record RedisUrl(Kind kind, boolean tls, String userInfo, List<Endpoint> endpoints, String masterName, int db) {

    /** How Flock finds the Redis it writes to. */
    public enum Kind {
        /** One Redis at a fixed address. */
        SINGLE,
        /** The primary of a Sentinel master set, asked of the sentinels on every (re)connect. */
        SENTINEL,
        /** A Redis Cluster, its slots and masters discovered from the seed nodes on every (re)connect. */
        CLUSTER
    }

    /**
     * One address of the URL.
     *
     * @param host a name, an IPv4 address or an IPv6 literal in brackets
     * @param port 1..65535
     */
    public record Endpoint(String host, int port) {
    }

    /** What a plain DNS name or IPv4 address may contain: java.net.URI's rules, plus the underscore. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?");
    /** A Sentinel master set's name: what sentinel.conf examples use, and nothing that needs escaping. */
    private static final Pattern MASTER_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final String SHAPE = " (expected redis://[user:password@]host[:port][/db])";
    private static final String SENTINEL_SHAPE =
            " (expected redis-sentinel://[user:password@]host[:port][,host[:port]...]/mastername[/db])";
    private static final String CLUSTER_SHAPE = " (expected redis-cluster://[user:password@]host[:port][,host[:port]...])";
    private static final int REDIS_PORT = 6379;
    private static final int SENTINEL_PORT = 26379;

    public RedisUrl {
        endpoints = List.copyOf(endpoints);
    }

    /** Parses and checks; a {@link ConfigException} names the actual problem. */
    public static RedisUrl parse(String url) {
        String s = url.trim();
        int sep = s.indexOf("://");
        String scheme = sep < 0 ? "" : s.substring(0, sep); // lower case only: the Redis client reads no other
        if (!List.of("redis", "rediss", "redis-sentinel", "rediss-sentinel", "redis-cluster", "rediss-cluster").contains(scheme)) {
            String schemes = "must start with redis://, rediss://, redis-sentinel://, rediss-sentinel://, redis-cluster://"
                    + " or rediss-cluster://";
            throw fail(sep < 0 ? schemes + SHAPE : schemes + " (got scheme \"" + safeScheme(scheme) + "\")");
        }
        Kind kind = scheme.endsWith("-sentinel") ? Kind.SENTINEL : scheme.endsWith("-cluster") ? Kind.CLUSTER : Kind.SINGLE;
        String rest = s.substring(sep + 3);
        if (rest.indexOf('#') >= 0) {
            throw fail("contains '#'; in a password write it as %23");
        }
        if (rest.indexOf(' ') >= 0) {
            throw fail("contains a space; in a password write it as %20");
        }
        // the authority ends at the first '/' or '?' after the last '@' (a '/' in a password must be %2F)
        int at = rest.lastIndexOf('@');
        int end = firstOf(rest, at + 1, '/', '?');
        String authority = rest.substring(0, end);
        String tail = rest.substring(end);
        String userInfo = null;
        String hosts = authority;
        if (at >= 0 && at < end) {
            userInfo = authority.substring(0, at);
            hosts = authority.substring(at + 1);
            checkUserInfo(userInfo);
        }
        if (tail.indexOf('?') >= 0) {
            throw fail("has a query (?...), which Flock does not read: put the database in the path (/3),"
                    + " and write a '?' in a password as %3F");
        }
        List<Endpoint> endpoints = new ArrayList<>();
        String masterName = null;
        int db;
        if (kind == Kind.SENTINEL) {
            if (hosts.isEmpty()) {
                throw fail("has no sentinel" + SENTINEL_SHAPE);
            }
            for (String one : hosts.split(",", -1)) {
                if (one.isEmpty()) {
                    throw fail("has an empty entry in its list of sentinels (two commas, or one at an end)");
                }
                endpoints.add(endpoint(one, SENTINEL_PORT));
            }
            String path = tail.isEmpty() ? "" : tail.substring(1);
            int slash = path.indexOf('/');
            masterName = slash < 0 ? path : path.substring(0, slash);
            if (masterName.isEmpty()) {
                throw fail("names no master set: the path must be the Sentinel master name (/mymaster)" + SENTINEL_SHAPE);
            }
            if (!MASTER_NAME.matcher(masterName).matches()) {
                throw fail("has a master name that is not one (letters, digits, '-', '_', '.'; at most 64)");
            }
            db = database(slash < 0 ? "" : path.substring(slash));
        } else if (kind == Kind.CLUSTER) {
            if (hosts.isEmpty()) {
                throw fail("has no cluster node" + CLUSTER_SHAPE);
            }
            for (String one : hosts.split(",", -1)) {
                if (one.isEmpty()) {
                    throw fail("has an empty entry in its list of cluster nodes (two commas, or one at an end)");
                }
                endpoints.add(endpoint(one, REDIS_PORT));
            }
            db = database(tail);
            if (db != 0) {
                throw fail("names database " + db + ", but a Redis Cluster has database 0 only: leave the path out" + CLUSTER_SHAPE);
            }
        } else {
            if (hosts.indexOf(',') >= 0) {
                throw fail("lists several hosts, which only redis-sentinel:// and redis-cluster:// take; for one Redis give one host" + SHAPE);
            }
            endpoints.add(endpoint(hosts, REDIS_PORT));
            db = database(tail);
        }
        boolean tls = scheme.startsWith("rediss");
        RedisUrl parsed = new RedisUrl(kind, tls, userInfo, endpoints, masterName, db);
        if (tls && parsed.needsResolving()) {
            throw fail("is " + scheme + ":// with a host name holding '_', which TLS hostname verification cannot match;"
                    + " use a name without '_' (a network alias) for TLS");
        }
        return parsed;
    }

    private static void checkUserInfo(String userInfo) {
        if (userInfo.indexOf('@') >= 0) {
            throw fail("has '@' in its user or password; write it as %40");
        }
        if (userInfo.indexOf('/') >= 0 || userInfo.indexOf('?') >= 0) {
            throw fail("has '/' or '?' in its user or password; write them as %2F and %3F");
        }
        if (userInfo.indexOf('+') >= 0) { // the client form-decodes it: "a+b" would authenticate as "a b"
            throw fail("has '+' in its user or password, which the Redis client reads as a space; write it as %2B");
        }
        if (!userInfo.matches("[A-Za-z0-9\\-._~!$&'()*+,;=:%]*") || !validEscapes(userInfo)) {
            throw fail("has a character in its user or password that must be percent-encoded (%XX)");
        }
    }

    /** {@code host[:port]}, the port {@code defaultPort} when left out. */
    private static Endpoint endpoint(String hostPort, int defaultPort) {
        String host;
        String portText;
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            if (close < 0) {
                throw fail("has an IPv6 address without its closing ']'");
            }
            host = hostPort.substring(0, close + 1);
            String after = hostPort.substring(close + 1);
            if (!after.isEmpty() && !after.startsWith(":")) {
                throw fail("has something after the IPv6 address that is not a :port");
            }
            portText = after.isEmpty() ? null : after.substring(1);
            if (!host.substring(1, host.length() - 1).matches("[0-9A-Fa-f:.]+")) {
                throw fail("has an IPv6 address that is not one");
            }
        } else {
            int colon = hostPort.indexOf(':');
            host = colon < 0 ? hostPort : hostPort.substring(0, colon);
            portText = colon < 0 ? null : hostPort.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw fail("has no host" + SHAPE);
        }
        if (!host.startsWith("[") && !NAME.matcher(host).matches()) {
            // a host name is not a secret, but a URL missing its '@' may have the password here: never echoed
            throw fail("has a host that is not a valid name or address (letters, digits, '-', '.', '_')");
        }
        int port = defaultPort;
        if (portText != null && !portText.isEmpty()) { // "host:" is the default port, as for the Redis client
            if (!portText.matches("\\d{1,5}") || Integer.parseInt(portText) < 1 || Integer.parseInt(portText) > 65535) {
                throw fail("has a bad port: the port must be 1..65535");
            }
            port = Integer.parseInt(portText);
        }
        return new Endpoint(host, port);
    }

    /** The database of a path ({@code ""}, {@code "/"} or {@code "/3"}). */
    private static int database(String path) {
        if (path.isEmpty() || path.equals("/")) {
            return 0;
        }
        if (!path.substring(1).matches("\\d{1,2}")) {
            throw fail("has a bad database: the path must end in a number /0 .. /99");
        }
        return Integer.parseInt(path.substring(1));
    }

    /** The one Redis's host (for Sentinel: the first sentinel's; for a cluster: the first seed node's). */
    public String host() {
        return endpoints.get(0).host();
    }

    /** The one Redis's port (for Sentinel: the first sentinel's). */
    public int port() {
        return endpoints.get(0).port();
    }

    /**
     * A host cannot go to the Redis client as it is (java.net.URI refuses it): Flock resolves it first.
     * Only names with '_' need this; everything else the client reads as written.
     */
    public boolean needsResolving() {
        return endpoints.stream().anyMatch(e -> needsResolving(e.host()));
    }

    /** Whether java.net.URI (and so the Redis client) refuses {@code host}. */
    public static boolean needsResolving(String host) {
        if (host.startsWith("[")) {
            return false;
        }
        // java.net.URI's own verdict, not a copy of its grammar: it also refuses names such as "redis-1.svc.0"
        // (a last label starting with a digit), which are no IPv4 address either
        try {
            return new java.net.URI("redis://" + host + ":1").getHost() == null;
        } catch (java.net.URISyntaxException e) {
            return true;
        }
    }

    /** The URL for the Redis client with {@code address} (an IP, from resolving {@link #host}) in place of the host. */
    public String clientUrl(String address) {
        return clientUrl(address, port());
    }

    /**
     * The client's URL of one endpoint at {@code address} (the host as written, or its resolved IP): the user,
     * the password and the database go with it (for a sentinel, the client hands them on to the primary).
     */
    public String clientUrl(String address, int port) {
        String h = address.indexOf(':') >= 0 && !address.startsWith("[") ? "[" + address + "]" : address;
        return (tls ? "rediss://" : "redis://") + (userInfo == null ? "" : userInfo + "@") + h + ":" + port + "/" + db;
    }

    /** The URL with its password replaced by {@code ***}, for --check-config. */
    public String masked() {
        String user = "";
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            user = (colon < 0 ? "***" : userInfo.substring(0, colon) + ":***") + "@";
        }
        String hosts = String.join(",", endpoints.stream().map(e -> e.host() + ":" + e.port()).toList());
        if (kind == Kind.SENTINEL) {
            return (tls ? "rediss-sentinel://" : "redis-sentinel://") + user + hosts + "/" + masterName + "/" + db;
        }
        if (kind == Kind.CLUSTER) {
            return (tls ? "rediss-cluster://" : "redis-cluster://") + user + hosts;
        }
        return (tls ? "rediss://" : "redis://") + user + hosts + "/" + db;
    }

    private static boolean validEscapes(String s) {
        for (int i = s.indexOf('%'); i >= 0; i = s.indexOf('%', i + 1)) {
            if (i + 2 >= s.length() || Character.digit(s.charAt(i + 1), 16) < 0 || Character.digit(s.charAt(i + 2), 16) < 0) {
                return false;
            }
        }
        return true;
    }

    private static int firstOf(String s, int from, char a, char b) {
        for (int i = from; i < s.length(); i++) {
            if (s.charAt(i) == a || s.charAt(i) == b) {
                return i;
            }
        }
        return s.length();
    }

    /** A scheme is no secret, but a mangled URL could put anything before "://": only a short, plain one is shown. */
    private static String safeScheme(String scheme) {
        return scheme.matches("[A-Za-z][A-Za-z0-9+.-]{0,15}") ? scheme : "?";
    }

    private static ConfigException fail(String what) {
        return new ConfigException("FLOCK_REDIS_URL " + what);
    }
}

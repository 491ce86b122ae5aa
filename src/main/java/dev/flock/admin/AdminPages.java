package dev.flock.admin;

import java.util.List;

/**
  * Server-rendered admin HTML. Every user-controlled value passes through {@link Html#escape};
  * colours go out only as validated {@code data-color} attributes that admin.js applies through
  * the CSSOM (the CSP forbids inline styles as well as inline scripts).
  */
final class AdminPages {

    static final int METADATA_SHOWN_CHARS = 300;

    /**
      * An inline SVG icon (the try-it page carries the same one): without a {@code <link rel="icon">} the browser
      * asks for /favicon.ico, which nothing serves, and logs a 404 on every page. A data: URL costs no request, and
      * the CSP's {@code img-src 'self' data:} already allows it.
      */
    static final String FAVICON_LINK = "<link rel=\"icon\" href=\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'"
            + " viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%232563eb'/%3E%3C/svg%3E\">";

    private AdminPages() {
    }

    static String login(String message) {
        StringBuilder html = head("Flock admin — sign in", null);
        html.append("<body class=\"login\"><main class=\"box\"><h1>Flock admin</h1>\n")
                .append("<form method=\"post\" action=\"admin\">\n");
        if (message != null) {
            html.append("<p class=\"err\" role=\"alert\" id=\"login-error\">").append(Html.escape(message)).append("</p>\n");
        }
        html.append("<label for=\"password\">Password</label>\n")
                .append("<input id=\"password\" type=\"password\" name=\"password\" autocomplete=\"current-password\" autofocus required>\n")
                .append("<button type=\"submit\">Sign in</button>\n</form></main></body></html>\n");
        return html.toString();
    }

    static String dashboard(List<RoomView> rooms, int instances, String csrfToken, long nowMillis) {
        return dashboard(rooms, instances, null, csrfToken, nowMillis);
    }

    /** {@code webhooks}: null without webhooks (nothing shown). */
    static String dashboard(List<RoomView> rooms, int instances, WebhookStatus webhooks, String csrfToken, long nowMillis) {
        int members = rooms.stream().mapToInt(r -> r.members().size()).sum();
        long activeCursors = rooms.stream().flatMap(r -> r.members().stream())
                .filter(m -> RoomsJson.isCursorActive(m, nowMillis)).count();
        String csrf = Html.escape(csrfToken);

        StringBuilder html = head("Flock admin", csrf);
        html.append("<body>\n<nav class=\"nav\"><span class=\"title\">Flock admin</span>")
                .append("<span class=\"sub\" id=\"refresh-state\">live</span>")
                .append("<form method=\"post\" action=\"admin/logout\"><input type=\"hidden\" name=\"csrf\" value=\"")
                .append(csrf).append("\"><button type=\"submit\" class=\"link\">Sign out</button></form></nav>\n")
                .append("<main class=\"wrap\">\n<section class=\"stats\">")
                .append(stat("stat-rooms", rooms.size(), "Active rooms"))
                .append(stat("stat-members", members, "Connected users"))
                .append(stat("stat-cursors", activeCursors, "Moving cursors (10 s)"))
                .append(stat("stat-instances", instances, "Instances"))
                .append(webhooks == null ? "" : stat("stat-webhooks", webhooks.pending(), "Webhooks pending"))
                .append("</section>\n")
                .append(webhooks == null ? "" : "<p class=\"sub\" id=\"webhook-failure\">Last webhook failure: "
                        + Html.escape(webhooks.lastFailure() == null ? "none" : webhooks.lastFailure()) + "</p>\n")
                .append("<section class=\"card\"><header class=\"card-header\"><h2>Rooms</h2>")
                .append("<form method=\"post\" action=\"api/admin/close-all\" id=\"close-all\"><input type=\"hidden\" name=\"csrf\" value=\"")
                .append(csrf).append("\"><button type=\"submit\" class=\"danger\">Close all rooms</button></form></header>\n")
                .append("<div class=\"table-scroll\"><table class=\"rooms\"><thead><tr><th>Room</th><th>Users</th><th>Who's here</th><th>Cursor activity</th><th></th></tr></thead>\n")
                .append("<tbody id=\"rooms\">\n");
        if (rooms.isEmpty()) {
            html.append("<tr class=\"empty\"><td colspan=\"5\">No active rooms</td></tr>\n");
        }
        for (RoomView room : rooms) {
            appendRoom(html, room, csrf, nowMillis);
        }
        html.append("</tbody></table></div></section>\n</main>\n</body></html>\n");
        return html.toString();
    }

    private static void appendRoom(StringBuilder html, RoomView room, String csrf, long nowMillis) {
        String roomId = Html.escape(room.roomId());
        // data-label: under 600 px wide admin.css stacks each row as a card and shows these as the cells' headings
        html.append("<tr class=\"room\"><td data-label=\"Room\"><code class=\"room-id\">").append(roomId).append("</code></td>")
                .append("<td class=\"count\" data-label=\"Users\">").append(room.members().size())
                .append("</td><td data-label=\"Who's here\"><ul class=\"members\">");
        for (MemberView member : room.members()) {
            appendMember(html, member);
        }
        html.append("</ul></td><td data-label=\"Cursor activity\"><ul class=\"activity\">");
        for (MemberView member : room.members()) {
            html.append("<li>").append(Html.escape(displayName(member))).append(": ")
                    .append(Html.escape(cursorAge(member.lastCursorAt(), nowMillis))).append("</li>");
        }
        html.append("</ul></td><td class=\"actions\"><form method=\"post\" action=\"api/admin/close-room\" class=\"close-room\">")
                .append("<input type=\"hidden\" name=\"csrf\" value=\"").append(csrf).append("\">")
                .append("<input type=\"hidden\" name=\"roomId\" value=\"").append(roomId).append("\">")
                .append("<button type=\"submit\" class=\"danger\">Close room</button></form></td></tr>\n");
    }

    private static void appendMember(StringBuilder html, MemberView member) {
        String metadata = RoomsJson.metadataText(member);
        if (metadata.length() > METADATA_SHOWN_CHARS) {
            metadata = metadata.substring(0, METADATA_SHOWN_CHARS) + "…";
        }
        html.append("<li class=\"member\" title=\"").append(Html.escape(metadata)).append("\">");
        String color = member.color();
        html.append("<span class=\"swatch\"");
        if (color != null) {
            html.append(" data-color=\"").append(color).append('"');
        }
        html.append("></span><span class=\"name\">").append(Html.escape(displayName(member)))
                .append("</span> <span class=\"uid\">").append(Html.escape(member.userId())).append("</span>")
                .append(" <span class=\"identity ").append(member.identity().label).append("\">")
                .append(member.identity().label).append("</span></li>");
    }

    static String displayName(MemberView member) {
        return member.name() != null ? member.name() : member.userId();
    }

    static String cursorAge(Long lastCursorAt, long nowMillis) {
        if (lastCursorAt == null) {
            return "no cursor";
        }
        long seconds = Math.max(0, (nowMillis - lastCursorAt) / 1000);
        if (seconds < 60) {
            return seconds + "s ago";
        }
        return seconds < 3600 ? seconds / 60 + "m ago" : seconds / 3600 + "h ago";
    }

    private static String stat(String id, long value, String label) {
        return "<div class=\"stat\"><div class=\"val\" id=\"" + id + "\">" + value + "</div><div class=\"label\">"
                + label + "</div></div>";
    }

    private static StringBuilder head(String title, String escapedCsrf) {
        StringBuilder html = new StringBuilder(4096);
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
                .append("<title>").append(Html.escape(title)).append("</title>")
                .append(FAVICON_LINK)
                .append("<link rel=\"stylesheet\" href=\"admin/assets/admin.css\">");
        if (escapedCsrf != null) {
            html.append("<meta name=\"flock-csrf\" content=\"").append(escapedCsrf).append("\">")
                    .append("<script src=\"admin/assets/admin.js\" defer></script>");
        }
        return html.append("</head>\n");
    }
}

package e2e;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.StringWriter;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.commons.lang.StringEscapeUtils;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Renders API Gateway mapping templates with Apache Velocity 1.7, the engine
 * API Gateway runs. One JVM renders many templates: each stdin line is a JSON
 * job {"template", "body", "context", "params", "stageVariables"}, each stdout
 * line the result {"output", "status"} or {"error"}.
 * Implements $input (json, path, body, params), $util (base64Encode,
 * base64Decode, escapeJavaScript, parseJson, urlEncode, urlDecode) and
 * $context as given; JSONPath only $, .field and [n]: anything else throws.
 */
public class VtlRunner {
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    static Object select(Object root, String path) {
        if (path == null || !path.startsWith("$")) {
            throw new IllegalArgumentException("unsupported JSONPath (must start with $): " + path);
        }
        Object cur = root;
        int i = 1;
        while (i < path.length()) {
            char c = path.charAt(i);
            if (c == '.') {
                int j = i + 1;
                while (j < path.length() && (Character.isLetterOrDigit(path.charAt(j)) || path.charAt(j) == '_' || path.charAt(j) == '-')) j++;
                if (j == i + 1) throw new IllegalArgumentException("unsupported JSONPath: " + path);
                String name = path.substring(i + 1, j);
                cur = (cur instanceof Map) ? ((Map<?, ?>) cur).get(name) : null;
                i = j;
            } else if (c == '[') {
                int j = path.indexOf(']', i);
                if (j < 0) throw new IllegalArgumentException("unsupported JSONPath: " + path);
                String idx = path.substring(i + 1, j);
                if (!idx.matches("[0-9]+")) throw new IllegalArgumentException("unsupported JSONPath subscript [" + idx + "] in " + path);
                int n = Integer.parseInt(idx);
                cur = (cur instanceof List && n < ((List<?>) cur).size()) ? ((List<?>) cur).get(n) : null;
                i = j + 1;
            } else {
                throw new IllegalArgumentException("unsupported JSONPath: " + path);
            }
        }
        return cur;
    }

    public static class Input {
        private final String body;
        private final Object parsed;
        private final Map<String, Object> params;

        Input(String body, Map<String, Object> params) throws Exception {
            this.body = body;
            this.params = params;
            Object p = null;
            if (body != null && !body.trim().isEmpty()) {
                try { p = JSON.readValue(body, Object.class); } catch (Exception e) { p = null; }
            }
            this.parsed = p;
        }

        public String getBody() { return body; }
        public Object path(String p) { return select(parsed, p); }
        public String json(String p) throws Exception {
            Object v = select(parsed, p);
            return JSON.writeValueAsString(v);
        }
        public Map<String, Object> params() { return params; }
        @SuppressWarnings("unchecked")
        public Object params(String name) {
            for (String where : new String[] {"path", "querystring", "header"}) {
                Object m = params.get(where);
                if (m instanceof Map && ((Map<String, Object>) m).containsKey(name)) return ((Map<String, Object>) m).get(name);
            }
            return "";
        }
    }

    public static class Util {
        public String base64Encode(String s) { return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8)); }
        public String base64Decode(String s) { return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8); }
        public String escapeJavaScript(String s) { return StringEscapeUtils.escapeJavaScript(s); }
        public Object parseJson(String s) throws Exception { return JSON.readValue(s, Object.class); }
        public String urlEncode(String s) throws Exception { return URLEncoder.encode(s, "UTF-8"); }
        public String urlDecode(String s) throws Exception { return URLDecoder.decode(s, "UTF-8"); }
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        VelocityEngine engine = new VelocityEngine();
        engine.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        engine.init();
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.trim().isEmpty()) continue;
            Map<String, Object> result = new LinkedHashMap<>();
            try {
                Map<String, Object> job = JSON.readValue(line, Map.class);
                Map<String, Object> context = new LinkedHashMap<>();
                Object given = job.get("context");
                if (given instanceof Map) context.putAll((Map<String, Object>) given);
                Map<String, Object> override = new LinkedHashMap<>();
                override.put("header", new LinkedHashMap<String, Object>());
                context.put("responseOverride", override);
                Map<String, Object> params = new LinkedHashMap<>();
                Object gp = job.get("params");
                if (gp instanceof Map) params.putAll((Map<String, Object>) gp);
                for (String where : new String[] {"path", "querystring", "header"}) params.putIfAbsent(where, new LinkedHashMap<String, Object>());
                VelocityContext vc = new VelocityContext();
                vc.put("input", new Input((String) job.get("body"), params));
                vc.put("util", new Util());
                vc.put("context", context);
                Object sv = job.get("stageVariables");
                vc.put("stageVariables", sv instanceof Map ? sv : new LinkedHashMap<String, Object>());
                StringWriter w = new StringWriter();
                engine.evaluate(vc, w, "mapping-template", (String) job.get("template"));
                result.put("output", w.toString());
                result.put("status", override.get("status"));
            } catch (Throwable e) {
                Throwable root = e;
                List<String> msgs = new ArrayList<>();
                while (root != null) { msgs.add(root.getClass().getSimpleName() + ": " + root.getMessage()); root = root.getCause(); }
                result.put("error", String.join(" <- ", msgs));
            }
            out.println(JSON.writeValueAsString(result));
        }
    }
}

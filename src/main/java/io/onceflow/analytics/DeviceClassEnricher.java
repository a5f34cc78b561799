package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.MapFunction;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@value Enrichers#DEVICE_CLASS} enricher: the device class from the event's user agent,
 * in process and synchronously (a few substring searches cost less than an async hand-off).
 * Events of types without this enricher, or without a user agent, pass unchanged.
 */
public final class DeviceClassEnricher implements MapFunction<AnalyticsRecord, AnalyticsRecord> {

    private static final long serialVersionUID = 1L;

    // Substrings of the lower-cased user agent, searched in this order. Plain String.indexOf, not
    // regular expressions: with Pattern.find, which tries every alternative at every position,
    // this enricher was 11% of the analytics job's busiest thread in a JFR profile of onceflow bench.
    private static final String[] BOT = {"bot", "crawler", "spider", "slurp", "headless"};
    private static final String[] TABLET = {"ipad", "tablet", "kindle", "silk", "playbook"};
    private static final String[] MOBILE = {"mobi", "iphone", "ipod", "android", "windows phone"};
    private static final String[] DESKTOP = {"windows nt", "macintosh", "x11", "cros", "linux"};

    private final HashMap<String, Boolean> enabledByType = new HashMap<>();

    public DeviceClassEnricher(Map<String, List<String>> enrichers) {
        enrichers.forEach((type, names) -> enabledByType.put(type, names.contains(Enrichers.DEVICE_CLASS)));
    }

    @Override
    public AnalyticsRecord map(AnalyticsRecord record) {
        SpecificRecord event = EventTypes.event(record);
        if (!enabledByType.getOrDefault(EventTypes.type(event), false)) {
            return record;
        }
        SpecificRecord context = EventTypes.context(event);
        Object userAgent = context == null ? null : context.get(context.getSchema().getField("userAgent").pos());
        if (userAgent != null) {
            record.getEnrichment().setDeviceClass(classify(userAgent.toString()));
        }
        return record;
    }

    /** desktop, mobile, tablet, bot or other. */
    public static String classify(String userAgent) {
        String ua = userAgent.toLowerCase(Locale.ROOT);
        if (containsAny(ua, BOT)) {
            return "bot";
        }
        if (containsAny(ua, TABLET) || androidWithoutMobile(ua)) {
            return "tablet";
        }
        if (containsAny(ua, MOBILE)) {
            return "mobile";
        }
        if (containsAny(ua, DESKTOP)) {
            return "desktop";
        }
        return "other";
    }

    private static boolean containsAny(String ua, String[] needles) {
        for (String needle : needles) {
            if (ua.contains(needle)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Android tablets leave "Mobile" out of their user agent; phones put it after "Android".
     * The last "android" decides: if no "mobile" follows it, none follows an earlier one either.
     */
    private static boolean androidWithoutMobile(String ua) {
        int android = ua.lastIndexOf("android");
        return android >= 0 && ua.indexOf("mobile", android + "android".length()) < 0;
    }
}

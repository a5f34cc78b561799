package io.onceflow.analytics;

import io.onceflow.analytics.model.AnalyticsRecord;

import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.functions.MapFunction;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@value Enrichers#DEVICE_CLASS} enricher: the device class from the event's user agent,
 * in process and synchronously (a few regular expressions cost less than an async hand-off).
 * Events of types without this enricher, or without a user agent, pass unchanged.
 */
public final class DeviceClassEnricher implements MapFunction<AnalyticsRecord, AnalyticsRecord> {

    private static final long serialVersionUID = 1L;

    private static final Pattern BOT = Pattern.compile("bot|crawler|spider|slurp|headless");
    private static final Pattern TABLET = Pattern.compile("ipad|tablet|kindle|silk|playbook|android(?!.*mobile)");
    private static final Pattern MOBILE = Pattern.compile("mobi|iphone|ipod|android|windows phone");
    private static final Pattern DESKTOP = Pattern.compile("windows nt|macintosh|x11|cros|linux");

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
        if (BOT.matcher(ua).find()) {
            return "bot";
        }
        if (TABLET.matcher(ua).find()) {
            return "tablet";
        }
        if (MOBILE.matcher(ua).find()) {
            return "mobile";
        }
        if (DESKTOP.matcher(ua).find()) {
            return "desktop";
        }
        return "other";
    }
}

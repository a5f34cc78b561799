package io.onceflow.analytics;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Locale;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class DeviceClassEnricherTest {

    /**
     * The rules as regular expressions, as the enricher had them before it searched substrings:
     * the two must classify every user agent alike.
     */
    private static String classifyByPatterns(String userAgent) {
        String ua = userAgent.toLowerCase(Locale.ROOT);
        if (Pattern.compile("bot|crawler|spider|slurp|headless").matcher(ua).find()) {
            return "bot";
        }
        if (Pattern.compile("ipad|tablet|kindle|silk|playbook|android(?!.*mobile)").matcher(ua).find()) {
            return "tablet";
        }
        if (Pattern.compile("mobi|iphone|ipod|android|windows phone").matcher(ua).find()) {
            return "mobile";
        }
        if (Pattern.compile("windows nt|macintosh|x11|cros|linux").matcher(ua).find()) {
            return "desktop";
        }
        return "other";
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 | desktop",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15 | desktop",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0 | desktop",
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 | desktop",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 | mobile",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36 | mobile",
        "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) Mobile Safari/537.36 | mobile",
        "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80) Presto/2.5.25 Version/10.54 mobi | mobile",
        "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 | tablet",
        "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 | tablet",
        "Mozilla/5.0 (Linux; Android 13; Mobile) then Android 14 tablet-shell | tablet",
        "Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 Silk/131.3.1 like Chrome | tablet",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html) | bot",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0 Safari/537.36 | bot",
        "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp) | bot",
        "curl/8.5.0 | other",
        "ANDROID MOBILE | mobile",
        "android | tablet",
        "' ' | other",
        // the last "android" decides whether one without "mobile" after it is a tablet
        "android mobile android | tablet",
        "mobile android | tablet",
        "android android mobile | mobile",
        "androidmobile | mobile",
    })
    void classifiesLikeThePatternsItReplaced(String userAgent, String expected) {
        assertThat(DeviceClassEnricher.classify(userAgent)).isEqualTo(expected);
        assertThat(classifyByPatterns(userAgent)).isEqualTo(expected);
    }
}

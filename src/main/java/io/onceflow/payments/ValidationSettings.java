package io.onceflow.payments;

import io.onceflow.config.ConfigException;

import java.io.Serializable;
import java.time.Duration;
import java.util.Currency;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static io.onceflow.config.ConfigException.check;

/**
 * The {@code validation} section: what a well-formed payment request is.
 *
 * @param maxAmountMinor largest amount accepted, in minor units
 * @param maxIdLength longest idempotency key, customer id or merchant id accepted
 * @param currencies accepted ISO 4217 codes; empty accepts every code Java knows
 * @param maxClockSkew how far in the future {@code requestedAt} may lie (client clocks drift)
 * @param maxRequestAge how old {@code requestedAt} may be; it bounds how long the daily-limit
 *     state must remember a day
 */
public record ValidationSettings(
        Long maxAmountMinor,
        Integer maxIdLength,
        List<String> currencies,
        Duration maxClockSkew,
        Duration maxRequestAge)
        implements Serializable {

    public ValidationSettings {
        maxAmountMinor = maxAmountMinor == null ? 100_000_000_00L : maxAmountMinor;
        maxIdLength = maxIdLength == null ? 64 : maxIdLength;
        currencies = currencies == null ? List.of() : List.copyOf(currencies);
        maxClockSkew = maxClockSkew == null ? Duration.ofMinutes(5) : maxClockSkew;
        maxRequestAge = maxRequestAge == null ? Duration.ofDays(2) : maxRequestAge;
        check(maxAmountMinor > 0, "Setting 'validation.max-amount-minor' must be positive.");
        check(
                maxIdLength >= 1 && maxIdLength <= 200,
                "Setting 'validation.max-id-length' must be between 1 and 200.");
        Set<String> known =
                Currency.getAvailableCurrencies().stream()
                        .map(Currency::getCurrencyCode)
                        .collect(Collectors.toSet());
        for (String code : currencies) {
            if (!known.contains(code)) {
                throw new ConfigException(
                        "Setting 'validation.currencies' lists '" + code + "', which is not an ISO 4217 code.");
            }
        }
    }

    public static ValidationSettings defaults() {
        return new ValidationSettings(null, null, null, null, null);
    }
}

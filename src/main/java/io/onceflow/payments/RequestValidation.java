package io.onceflow.payments;

import io.onceflow.payments.model.AuthorizationRequest;
import io.onceflow.payments.model.PaymentResult;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.time.Instant;
import java.util.Optional;

/**
 * Passes well-formed requests on and answers the others with {@code REJECTED} and the {@link
 * PaymentRequestValidator}'s reason, on the {@link #REJECTED} side output. A rejected request
 * touches no state: a repeat of it is rejected again, not answered as a duplicate.
 */
public final class RequestValidation extends ProcessFunction<AuthorizationRequest, AuthorizationRequest> {

    private static final long serialVersionUID = 1L;

    public static final OutputTag<PaymentResult> REJECTED =
            new OutputTag<>("rejected-requests", new AvroTypeInfo<>(PaymentResult.class));

    private final PaymentRequestValidator validator;
    private transient Counter rejected;

    public RequestValidation(ValidationSettings settings) {
        this.validator = new PaymentRequestValidator(settings);
    }

    @Override
    public void open(OpenContext openContext) {
        rejected = getRuntimeContext().getMetricGroup().counter("requestsRejected");
    }

    @Override
    public void processElement(
            AuthorizationRequest payment, Context context, Collector<AuthorizationRequest> out) {
        Instant now = Instant.ofEpochMilli(context.timerService().currentProcessingTime());
        Optional<String> violation = validator.violation(payment.getRequest(), now);
        if (violation.isPresent()) {
            rejected.inc();
            PaymentResult result = PaymentResults.rejected(payment, violation.get(), now);
            if (PaymentRequestValidator.refusesPaymentIdentity(violation.get())) {
                // PaymentResults only knows empty ids; a blank, overlong or control-character id
                // would otherwise get a payment id that names no payment and never can.
                result.setPaymentId(null);
            }
            context.output(REJECTED, result);
        } else {
            out.collect(payment);
        }
    }
}

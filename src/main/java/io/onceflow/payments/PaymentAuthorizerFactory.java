package io.onceflow.payments;

import io.onceflow.enrichment.gateway.PaymentGateway;
import io.onceflow.payments.model.AuthorizationRequest;
import io.onceflow.payments.model.PaymentResult;

import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.util.function.SerializableSupplier;

/**
 * Creates {@link PaymentAuthorizer}s; a factory because the operator needs the task's mailbox
 * executor to hand gateway answers back to the task thread.
 */
public final class PaymentAuthorizerFactory extends AbstractStreamOperatorFactory<PaymentResult>
        implements OneInputStreamOperatorFactory<AuthorizationRequest, PaymentResult> {

    private static final long serialVersionUID = 1L;

    private final PaymentAuthorizer.Settings settings;
    private final SerializableSupplier<PaymentGateway> gatewayFactory;

    public PaymentAuthorizerFactory(
            PaymentAuthorizer.Settings settings, SerializableSupplier<PaymentGateway> gatewayFactory) {
        this.settings = settings;
        this.gatewayFactory = gatewayFactory;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<PaymentResult>> T createStreamOperator(
            StreamOperatorParameters<PaymentResult> parameters) {
        return (T) new PaymentAuthorizer(parameters, settings, gatewayFactory);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return PaymentAuthorizer.class;
    }
}

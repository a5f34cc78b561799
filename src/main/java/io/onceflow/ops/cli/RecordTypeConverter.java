package io.onceflow.ops.cli;

import io.onceflow.records.KnownSchemas.KnownType;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Iterator;

/** {@code --type payment-request}: a record type by its name in {@link OnceflowCli#KNOWN_TYPES}. */
final class RecordTypeConverter implements ITypeConverter<KnownType<?>> {

    @Override
    public KnownType<?> convert(String name) {
        return OnceflowCli.KNOWN_TYPES
                .byName(name)
                .orElseThrow(
                        () ->
                                new TypeConversionException(
                                        "'" + name + "' is not a record type; known types are "
                                                + String.join(", ", new Names())));
    }

    /** The names for help and shell completion. */
    static final class Names implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return OnceflowCli.KNOWN_TYPES.types().stream().map(KnownType::name).iterator();
        }
    }
}

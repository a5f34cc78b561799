package io.onceflow.ops.cli;

import picocli.CommandLine;

import java.util.List;

/** The CLI's parser, for tests outside this package that check arguments written elsewhere. */
public final class CliArguments {

    private CliArguments() {}

    /**
     * Parses {@code args} as {@code onceflow} would, without running anything.
     *
     * @return the names of the commands the arguments select, outermost first
     * @throws CommandLine.ParameterException when the CLI would reject them
     */
    public static List<String> commands(List<String> args) {
        CommandLine.ParseResult parsed =
                new CommandLine(new OnceflowCli(CliIo.system())).parseArgs(args.toArray(String[]::new));
        return parsed.asCommandLineList().stream().skip(1).map(CommandLine::getCommandName).toList();
    }
}

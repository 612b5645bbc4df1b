package ai.autoglm.cli;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.model.ContextOverflowException;
import ai.autoglm.core.tokenizer.ChatTemplateException;
import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/**
 * Maps what went wrong to an exit code and one line on stderr. Problems with the user's input (files,
 * parameters, prompts) exit 2; anything else is our bug and exits 1. {@code --debug} adds the stack trace.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    static final int USER_ERROR = 2;
    static final int INTERNAL_ERROR = 1;

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parseResult) {
        boolean debug = parseResult.expandedArgs().contains("--debug");
        Throwable cause = ex instanceof UncheckedIOException u ? u.getCause() : ex;
        String message = userMessage(cause);
        // An UncheckedIOException's own message names the file ("cannot write X: No space left on device"); its
        // cause's often does not.
        if (ex instanceof UncheckedIOException u && message != null && u.getMessage() != null
                && !(cause instanceof NoSuchFileException) && !(cause instanceof AccessDeniedException)) message = u.getMessage();
        if (message != null) {
            cmd.getErr().println("autoglm: error: " + message);
        } else {
            cmd.getErr().println("autoglm: internal error: " + cause + " (run with --debug for details)");
        }
        if (debug) ex.printStackTrace(cmd.getErr());
        cmd.getErr().flush();
        return message != null ? USER_ERROR : INTERNAL_ERROR;
    }

    /** The message for a problem the user can fix, or null when it is not one. */
    private static String userMessage(Throwable t) {
        return switch (t) {
            case ModelFormatException e -> e.getMessage();
            case ContextOverflowException e -> e.getMessage();
            case ChatTemplateException e -> "chat template: " + e.getMessage();
            case NoSuchFileException e -> e.getFile() + ": no such file or directory";
            case AccessDeniedException e -> e.getFile() + ": permission denied";
            case IllegalArgumentException e -> e.getMessage();
            case IOException e -> e.getMessage();
            default -> null;
        };
    }
}

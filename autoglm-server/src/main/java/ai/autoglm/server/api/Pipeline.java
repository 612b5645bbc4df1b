package ai.autoglm.server.api;

import java.io.IOException;
import java.util.List;

/** Ordered {@link Stage}s; each passes the call to the next, the last to the endpoint. */
final class Pipeline {
    private final List<Stage> stages;
    private final Stage.Next endpoint;

    Pipeline(List<Stage> stages, Stage.Next endpoint) {
        this.stages = List.copyOf(stages);
        this.endpoint = endpoint;
    }

    void run(Call call) throws IOException {
        next(0).handle(call);
    }

    private Stage.Next next(int i) {
        return i == stages.size() ? endpoint : c -> stages.get(i).handle(c, next(i + 1));
    }
}

package ai.autoglm.server.api;

/** Reads and parses the JSON body (413 past the size limit, 400 when it is not JSON), after the key was checked. */
final class ReadBodyStage implements Stage {
    @Override
    public void handle(Call call, Next next) throws java.io.IOException {
        next.handle(call.withBody(Json.parse(call.exchange().body())));
    }
}

package ai.autoglm.server.api;

/** 431 when the request's headers are larger than {@code security.max-header-bytes} (see {@link HttpExchange#checkHeadSize}). */
final class HeadSizeStage implements Stage {
    private final int maxHeaderBytes;

    HeadSizeStage(int maxHeaderBytes) {
        this.maxHeaderBytes = maxHeaderBytes;
    }

    @Override
    public void handle(Call call, Next next) throws java.io.IOException {
        call.exchange().checkHeadSize(maxHeaderBytes);
        next.handle(call);
    }
}

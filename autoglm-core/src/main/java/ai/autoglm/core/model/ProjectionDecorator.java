package ai.autoglm.core.model;

/**
 * Replaces projections while a model binds its weights: {@link TransformerModel} passes each one with its
 * tensor name (GGUF naming, e.g. {@code blk.3.attn_q.weight}, {@code output.weight}) and uses what comes back.
 * LoRA adapters applied at load time wrap the base projection; calibration (importance matrices, Wanda pruning)
 * wraps it to observe its inputs. The result must keep the input and output dimensions.
 */
@FunctionalInterface
public interface ProjectionDecorator {
    ProjectionDecorator NONE = (name, p) -> p;

    Projection decorate(String tensorName, Projection projection);

    /** This decorator, then {@code next} around its result. */
    default ProjectionDecorator andThen(ProjectionDecorator next) {
        return (name, p) -> next.decorate(name, decorate(name, p));
    }
}

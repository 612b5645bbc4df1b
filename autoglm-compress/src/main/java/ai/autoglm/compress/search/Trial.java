package ai.autoglm.compress.search;

/** One candidate tried: its measurement, or why it could not be built or measured. */
public record Trial(int number, Candidate candidate, Measurement measurement, String error) {
    public Trial {
        if ((measurement == null) == (error == null)) throw new IllegalArgumentException("a trial has a measurement or an error");
    }

    public boolean measured() {
        return measurement != null;
    }
}

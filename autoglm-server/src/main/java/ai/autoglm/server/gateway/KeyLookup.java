package ai.autoglm.server.gateway;

import ai.autoglm.server.security.ApiKey;
import java.util.List;

/**
 * Where the gateway looks keys up: the keys file of this server ({@link KeyRing}) or the keys every replica shares
 * through Redis ({@link RedisKeyRing}).
 */
public interface KeyLookup {
    /** Whether keys are required (any key exists, or the keys cannot be read: fail closed). */
    boolean required();

    /** The active key whose secret this is, or null. */
    ApiKey authenticate(String secret);

    /** Every key, revoked and expired ones too. */
    List<ApiKey> keys();
}

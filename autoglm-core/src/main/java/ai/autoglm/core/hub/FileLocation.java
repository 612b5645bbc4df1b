package ai.autoglm.core.hub;

import java.net.URI;

/**
 * Where to GET one file and what it must hash to.
 *
 * @param uri       the final address (after the hub's redirect to its CDN, as huggingface_hub does to "save an
 *                  extra redirect on the request.get call, and ensure we download the exact atomic version")
 * @param etag      sha256 or git sha1 of the content (names the blob; checked before the blob becomes visible)
 * @param size      bytes
 * @param sendToken whether the access token goes with the GET (not to a CDN on another host)
 */
public record FileLocation(URI uri, String etag, long size, boolean sendToken) {
}

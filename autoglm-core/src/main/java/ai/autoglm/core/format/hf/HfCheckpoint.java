package ai.autoglm.core.format.hf;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.safetensors.SafetensorsFile;
import ai.autoglm.core.format.safetensors.SafetensorsTensorInfo;
import ai.autoglm.core.tensor.FloatTensor;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A Hugging Face model directory: {@code config.json} plus weights in safetensors, either one {@code model.safetensors}
 * or shards {@code model-0000X-of-0000N.safetensors} listed by {@code model.safetensors.index.json}
 * ({@code "weight_map": {tensor name: shard file}}). This is how transformers' {@code save_pretrained} lays a checkpoint
 * out, and how llama.cpp's convert_hf_to_gguf.py ({@code ModelBase.index_tensors}) finds the tensors.
 *
 * <p>Without an index, every {@code model*.safetensors} file in the directory is opened (sorted by name), as
 * convert_hf_to_gguf.py's {@code get_model_part_names} does; a tensor name appearing in two files is an error. With an
 * index, only the shards it names are opened, and every tensor it names must be in its shard; tensors a shard holds that
 * the index does not name are ignored. PyTorch {@code .bin} checkpoints are not supported (they are pickles).
 *
 * <p>All shards stay memory-mapped until {@link #close()}; tensors are views into the mappings.
 */
public final class HfCheckpoint implements AutoCloseable {
    /** The file of a checkpoint directory that holds its config (transformers {@code CONFIG_NAME}). */
    public static final String CONFIG = "config.json";
    static final String SINGLE = "model.safetensors";
    static final String INDEX = "model.safetensors.index.json";
    /** JSON side files (config, index, tokenizer) larger than this are not plausible; refuse rather than exhaust memory. */
    static final long MAX_JSON_BYTES = 256L << 20;

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final Path dir;
    private final JsonNode config;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byTensor;

    private HfCheckpoint(Path dir, JsonNode config, List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor) {
        this.dir = dir;
        this.config = config;
        this.files = files;
        this.byTensor = byTensor;
    }

    /** Opens the checkpoint in {@code dir}; throws {@link ModelFormatException} naming the file and the problem. */
    public static HfCheckpoint open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(dir, "not a directory (a Hugging Face checkpoint is a directory with config.json)");
        }
        Path configFile = dir.resolve(CONFIG);
        if (!Files.isRegularFile(configFile)) {
            throw new ModelFormatException(configFile, "missing: a Hugging Face checkpoint needs config.json");
        }
        JsonNode config = readJson(configFile);
        if (!config.isObject()) {
            throw new ModelFormatException(configFile, "is not a JSON object");
        }
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byTensor = new TreeMap<>();
            Path index = dir.resolve(INDEX);
            if (Files.isRegularFile(index)) {
                openIndexed(dir, index, opened, byTensor);
            } else if (Files.isRegularFile(dir.resolve(SINGLE))) {
                SafetensorsFile f = SafetensorsFile.open(dir.resolve(SINGLE));
                opened.add(f);
                for (String name : f.tensors().keySet()) byTensor.put(name, f);
            } else {
                List<Path> parts = partFiles(dir);
                if (parts.isEmpty()) {
                    throw new ModelFormatException(dir, "no safetensors weights: expected " + SINGLE + " or " + INDEX
                            + " with its shards (PyTorch .bin checkpoints are not supported)");
                }
                for (Path part : parts) {
                    SafetensorsFile f = SafetensorsFile.open(part);
                    opened.add(f);
                    for (String name : f.tensors().keySet()) {
                        SafetensorsFile other = byTensor.putIfAbsent(name, f);
                        if (other != null) {
                            throw new ModelFormatException(part, "tensor '" + name + "' is also in " + other.path().getFileName());
                        }
                    }
                }
            }
            return new HfCheckpoint(dir, config, List.copyOf(opened), Collections.unmodifiableMap(byTensor));
        } catch (RuntimeException | Error e) {
            for (SafetensorsFile f : opened) f.close();
            throw e;
        }
    }

    private static void openIndexed(Path dir, Path index, List<SafetensorsFile> opened, Map<String, SafetensorsFile> byTensor) {
        JsonNode root = readJson(index);
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new ModelFormatException(index, "has no \"weight_map\" object");
        }
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String tensor = e.getKey();
            if (!e.getValue().isTextual()) {
                throw new ModelFormatException(index, "weight_map entry for '" + tensor + "' is not a file name");
            }
            String shardName = e.getValue().asText();
            SafetensorsFile shard = shards.get(shardName);
            if (shard == null) {
                Path shardPath = shardPath(dir, index, shardName);
                if (!Files.isRegularFile(shardPath)) {
                    throw new ModelFormatException(shardPath, "missing shard named by " + INDEX + " (for tensor '" + tensor + "')");
                }
                shard = SafetensorsFile.open(shardPath);
                opened.add(shard);
                shards.put(shardName, shard);
            }
            if (shard.info(tensor) == null) {
                throw new ModelFormatException(shard.path(), "lacks tensor '" + tensor + "' that " + INDEX + " places in it");
            }
            byTensor.put(tensor, shard);
        }
    }

    /** A shard name must be a plain file name in the checkpoint directory (no path tricks from a hostile index). */
    private static Path shardPath(Path dir, Path index, String shardName) {
        if (shardName.isEmpty() || shardName.contains("/") || shardName.contains("\\") || shardName.equals("..")
                || shardName.equals(".") || shardName.indexOf('\0') >= 0) {
            throw new ModelFormatException(index, "weight_map names an invalid shard file '" + shardName + "'");
        }
        return dir.resolve(shardName);
    }

    private static List<Path> partFiles(Path dir) {
        List<Path> parts = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "model*.safetensors")) {
            for (Path p : ds) if (Files.isRegularFile(p)) parts.add(p);
        } catch (IOException e) {
            throw new ModelFormatException(dir, "cannot list directory: " + e.getMessage(), e);
        }
        parts.sort(null);
        return parts;
    }

    /** Reads a JSON side file of the checkpoint (bounded in size); errors name the file. */
    public static JsonNode readJson(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_JSON_BYTES) {
                throw new ModelFormatException(file, "is " + size + " bytes, too large for a JSON side file");
            }
            JsonNode node = JSON.readTree(ai.autoglm.core.format.LoadedFiles.readAllBytes(file));
            if (node == null || node.isMissingNode()) {
                throw new ModelFormatException(file, "is empty");
            }
            return node;
        } catch (JacksonException e) {
            throw new ModelFormatException(file, "malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot read: " + e, e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** The parsed config.json. */
    public JsonNode config() {
        return config;
    }

    /** Tensor names (Hugging Face naming), sorted. */
    public Set<String> tensorNames() {
        return byTensor.keySet();
    }

    /** The safetensors entry of {@code hfName}, or null. */
    public SafetensorsTensorInfo info(String hfName) {
        SafetensorsFile f = byTensor.get(hfName);
        return f == null ? null : f.info(hfName);
    }

    /** A float view of {@code hfName} over its shard's mapping, or null when absent (see {@link SafetensorsFile#tensor}). */
    public FloatTensor tensor(String hfName) {
        SafetensorsFile f = byTensor.get(hfName);
        return f == null ? null : f.tensor(hfName);
    }

    /** Raw bytes of {@code hfName} in its stored dtype, or null when absent. */
    public MemorySegment tensorData(String hfName) {
        SafetensorsFile f = byTensor.get(hfName);
        return f == null ? null : f.tensorData(hfName);
    }

    /** The shape in Hugging Face order (last = row length), or null when absent. */
    public long[] shape(String hfName) {
        SafetensorsTensorInfo info = info(hfName);
        return info == null ? null : info.shape().clone();
    }

    /** The stored dtype ({@code F32}, {@code BF16}, ...), or null when absent. */
    public String dtype(String hfName) {
        SafetensorsTensorInfo info = info(hfName);
        return info == null ? null : info.dtype();
    }

    /** The file holding {@code hfName}, or null. */
    public Path fileOf(String hfName) {
        SafetensorsFile f = byTensor.get(hfName);
        return f == null ? null : f.path();
    }

    @Override
    public void close() {
        for (SafetensorsFile f : files) f.close();
    }
}

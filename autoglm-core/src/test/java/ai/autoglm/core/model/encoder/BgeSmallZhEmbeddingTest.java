package ai.autoglm.core.model.encoder;

import java.util.ArrayList;
import java.util.List;

/** BAAI/bge-small-zh-v1.5 (4 layers, 512 wide, 8 heads, CLS pooling, cased normalizer: lowercase false). */
class BgeSmallZhEmbeddingTest extends OnnxRuntimeReferenceTest {
    @Override
    String modelName() {
        return EmbeddingJars.BGE_ZH;
    }

    @Override
    Pooling modelCardPooling() {
        return Pooling.CLS;
    }

    @Override
    int expectedMaxTokens() {
        return 512;
    }

    @Override
    List<String> texts() {
        List<String> t = new ArrayList<>(EmbeddingCorpus.all());
        t.add("北京是中华人民共和国的首都，也是全国的政治、文化中心。");
        t.add("“你好！”他说：“今天是2024年11月21日，星期四。”");
        t.add("混合 Mixed 文本 with CamelCase 和 ＵＴＦ全角字符，以及繁體中文與日本語のテキスト。");
        t.add("长".repeat(200));
        return t;
    }
}

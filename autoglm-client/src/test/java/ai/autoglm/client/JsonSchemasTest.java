package ai.autoglm.client;

import ai.autoglm.core.generate.json.JsonGrammar;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Schemas from Java types: accepted by our grammar compiler, and judged by an independent validator. */
class JsonSchemasTest {
    enum Size { S, M, L }

    record Item(String name, int count, double price, boolean gift, Size size) {
    }

    record Order(long id, List<Item> items, String[] notes) {
    }

    record Loop(Loop next) {
    }

    @Test
    void nestedRecordsListsArraysAndEnums() throws Exception {
        var schema = JsonSchemas.ofRecord(Order.class);
        JsonGrammar.fromSchema(schema); // the constrained decoder accepts every keyword it uses
        var validator = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schema);
        String good = "{\"id\": 7, \"items\": [{\"name\": \"tea\", \"count\": 2, \"price\": 1.5, \"gift\": false, \"size\": \"M\"}], \"notes\": [\"x\"]}";
        assertThat(validator.validate(Json.MAPPER.readTree(good))).isEmpty();
        assertThat(Json.MAPPER.readValue(good, Order.class).items().getFirst()).isEqualTo(new Item("tea", 2, 1.5, false, Size.M));
        for (String bad : List.of("{\"id\": 7, \"items\": [], \"notes\": [], \"extra\": 1}", "{\"id\": 7, \"items\": []}",
                "{\"id\": 1.5, \"items\": [], \"notes\": []}",
                "{\"id\": 7, \"items\": [{\"name\": \"tea\", \"count\": 2, \"price\": 1.5, \"gift\": false, \"size\": \"XL\"}], \"notes\": []}")) {
            assertThat(validator.validate(Json.MAPPER.readTree(bad))).as(bad).isNotEmpty();
        }
    }

    @Test
    void unsupportedTypesAreClearErrors() {
        assertThatThrownBy(() -> JsonSchemas.ofRecord(Loop.class)).hasMessageContaining("refers to itself");
        record WithObject(Object o) {
        }
        assertThatThrownBy(() -> JsonSchemas.ofRecord(WithObject.class)).hasMessageContaining("WithObject.o").hasMessageContaining("java.lang.Object");
    }

    static String lookup(String city, int days) {
        return city + days;
    }

    @Test
    void aMethodCompiledWithoutParameterNamesIsAClearError() throws Exception {
        var m = JsonSchemasTest.class.getDeclaredMethod("lookup", String.class, int.class);
        assertThat(m.getParameters()[0].isNamePresent()).as("this module compiles without -parameters").isFalse();
        assertThatThrownBy(() -> ToolSpec.fromMethod(m, "d")).hasMessageContaining("lookup").hasMessageContaining("-parameters");
    }
}

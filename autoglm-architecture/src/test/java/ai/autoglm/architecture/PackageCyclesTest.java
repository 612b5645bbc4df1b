package ai.autoglm.architecture;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The package graph of every module's main classes has no cycle (issue 14: {@code core.format.hf <-> core.model},
 * {@code server <-> server.api}, ... were cycles). Packages follow the data one way (docs/layout.md); a cycle means two
 * packages that can only be understood, tested and changed together. ArchUnit's slice rule reports each cycle with
 * the class-level dependencies that close it, which is what one needs to break it.
 */
class PackageCyclesTest {

    /** Every package is its own slice: {@code (**)} captures the whole package name after {@code ai.autoglm.}. */
    private static ArchRule packagesFreeOfCycles() {
        return slices().matching("ai.autoglm.(**)").should().beFreeOfCycles();
    }

    @Test
    void noPackageCycleAcrossAllModules() throws IOException {
        JavaClasses classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("ai.autoglm");
        assertEveryModuleImported(classes);
        packagesFreeOfCycles().check(classes);
    }

    @Test
    void theRuleCatchesACycle() {
        JavaClasses fixture = new ClassFileImporter().importPackages("ai.autoglm.architecture.cyclefixture");
        assertThat(fixture).hasSize(2);
        assertThatThrownBy(() -> packagesFreeOfCycles().check(fixture))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("Cycle detected")
                .hasMessageContaining("cyclefixture.a")
                .hasMessageContaining("cyclefixture.b");
    }

    /**
     * The check is only as wide as the test class path: every module of the root pom (but this one) must have
     * contributed classes, so a module added to the build and not to this module's dependencies fails here instead of
     * going unchecked.
     */
    private static void assertEveryModuleImported(JavaClasses classes) throws IOException {
        Path rootPom = Path.of("..", "pom.xml");
        Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(Files.readString(rootPom));
        Set<String> modules = new TreeSet<>();
        while (m.find()) modules.add(m.group(1));
        modules.remove("autoglm-architecture");
        assertThat(modules).as("modules of %s", rootPom).contains("autoglm-core", "autoglm-cli");
        Set<String> seen = new TreeSet<>();
        for (JavaClass c : classes) {
            c.getSource().ifPresent(s -> {
                String uri = s.getUri().toString();
                for (String module : modules) {
                    if (uri.contains("/" + module + "/target/classes/") || uri.contains("/" + module + "-")) seen.add(module);
                }
            });
        }
        assertThat(seen).as("modules whose main classes were imported (add a missing one to autoglm-architecture/pom.xml)")
                .containsExactlyInAnyOrderElementsOf(List.copyOf(modules));
    }
}

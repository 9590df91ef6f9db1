# The quantization unit tests (tests/test_quant.c): arith.h's rounding and
# quantization math, histograms, calibrators, the TensorRT cache and the plan
# file. include()d from tests/CMakeLists.txt, after OCT_TEST_INC is set.
add_executable(test_quant ${CMAKE_CURRENT_LIST_DIR}/test_quant.c)
target_include_directories(test_quant PRIVATE ${OCT_TEST_INC})
target_compile_options(test_quant PRIVATE ${OCT_WARN})
target_link_libraries(test_quant PRIVATE octet_core)
# Scratch files go to a folder of the build tree (created by the runner).
add_test(NAME quant COMMAND $<TARGET_FILE:test_quant> ${CMAKE_CURRENT_BINARY_DIR}/quant_tmp)
set_tests_properties(quant PROPERTIES TIMEOUT 600)

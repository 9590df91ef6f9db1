# The diagnosis rules (src/quant/diagnose.c): unit tests on analysis
# documents built in the test, and end to end on small synthetic ONNX graphs
# (calibrate + analyze + diagnoses). include()d from tests/CMakeLists.txt.
add_executable(test_diagnose ${CMAKE_CURRENT_LIST_DIR}/test_diagnose.c)
target_include_directories(test_diagnose PRIVATE ${OCT_TEST_INC})
target_compile_options(test_diagnose PRIVATE ${OCT_WARN})
target_link_libraries(test_diagnose PRIVATE octet_core)
add_test(NAME diagnose COMMAND $<TARGET_FILE:test_diagnose>)
set_tests_properties(diagnose PROPERTIES TIMEOUT 120)
# End to end: synthetic ONNX graphs built at test time, `octet calibrate` and
# `octet analyze --json`; skipped (77) while `octet analyze` does not exist.
add_test(NAME diagnose_graphs
  COMMAND sh ${OCT_NEED} ${OCT_VENV_PYTHON} --
          ${OCT_VENV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/diagnose_graphs.py --octet $<TARGET_FILE:octet>)
set_tests_properties(diagnose_graphs PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1800)

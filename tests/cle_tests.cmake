# Cross-layer equalization and the ONNX model editor (tests/test_cle.c):
# synthetic Conv pairs built in the test, the model_edit unit tests, and the
# shared real models (mobilenetv2-12, yolov5n, yolov10n; skipped with a SKIP
# line when missing). include()d from tests/CMakeLists.txt, after
# OCT_TEST_INC is set.
add_executable(test_cle ${CMAKE_CURRENT_LIST_DIR}/test_cle.c ${CMAKE_CURRENT_LIST_DIR}/test_cle_edit.c
               ${CMAKE_CURRENT_LIST_DIR}/test_cle_real.c ${CMAKE_CURRENT_LIST_DIR}/cle_build.c)
target_include_directories(test_cle PRIVATE ${OCT_TEST_INC})
target_compile_options(test_cle PRIVATE ${OCT_WARN})
# OCTET_SHARED defaults to ../shared beside the repository
target_compile_definitions(test_cle PRIVATE OCT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
target_link_libraries(test_cle PRIVATE octet_core)
# Scratch files go to a folder of the build tree (created by the runner).
add_test(NAME cle COMMAND $<TARGET_FILE:test_cle> ${CMAKE_CURRENT_BINARY_DIR}/cle_tmp)
set_tests_properties(cle PROPERTIES TIMEOUT 1200)

# The CLE models under ONNX Runtime (tests/cle_vs_ort.py): a synthetic Clip
# chain and mobilenetv2-12, written by `test_cle --apply`.
add_test(NAME cle_ort
  COMMAND sh ${OCT_NEED} ${OCT_VENV_PYTHON} --
          ${OCT_VENV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/cle_vs_ort.py --test-cle $<TARGET_FILE:test_cle>)
set_tests_properties(cle_ort PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

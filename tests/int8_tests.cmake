# Real INT8 execution (issue 5): the oneDNN INT8 convolution,
# ConvTranspose, MatMul and Gemm against the simulation on generated
# one-node models (tests/test_int8_conv.c, tests/test_int8_deconv.c,
# tests/test_int8_matmul.c), and
# whole models, INT8 against the simulation (tests/int8_vs_sim.py).
# include()d from tests/CMakeLists.txt, after OCT_TEST_INC is set.
add_executable(test_int8_conv ${CMAKE_CURRENT_LIST_DIR}/test_int8_conv.c)
target_include_directories(test_int8_conv PRIVATE ${OCT_TEST_INC})
target_compile_options(test_int8_conv PRIVATE ${OCT_WARN})
target_link_libraries(test_int8_conv PRIVATE octet_core)
if(DNNL_LIB)
  target_compile_definitions(test_int8_conv PRIVATE OCT_HAVE_DNNL=1)
endif()
add_test(NAME int8_conv COMMAND $<TARGET_FILE:test_int8_conv>)
set_tests_properties(int8_conv PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# The INT8 MatMul and Gemm the same way (tests/test_int8_matmul.c).
add_executable(test_int8_matmul ${CMAKE_CURRENT_LIST_DIR}/test_int8_matmul.c)
target_include_directories(test_int8_matmul PRIVATE ${OCT_TEST_INC})
target_compile_options(test_int8_matmul PRIVATE ${OCT_WARN})
target_link_libraries(test_int8_matmul PRIVATE octet_core)
if(DNNL_LIB)
  target_compile_definitions(test_int8_matmul PRIVATE OCT_HAVE_DNNL=1)
endif()
add_test(NAME int8_matmul COMMAND $<TARGET_FILE:test_int8_matmul>)
set_tests_properties(int8_matmul PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# The INT8 ConvTranspose the same way (tests/test_int8_deconv.c; the model
# builder and the comparison are tests/int8_test.h, shared with the Conv's).
add_executable(test_int8_deconv ${CMAKE_CURRENT_LIST_DIR}/test_int8_deconv.c)
target_include_directories(test_int8_deconv PRIVATE ${OCT_TEST_INC})
target_compile_options(test_int8_deconv PRIVATE ${OCT_WARN})
target_link_libraries(test_int8_deconv PRIVATE octet_core)
if(DNNL_LIB)
  target_compile_definitions(test_int8_deconv PRIVATE OCT_HAVE_DNNL=1)
endif()
add_test(NAME int8_deconv COMMAND $<TARGET_FILE:test_int8_deconv>)
set_tests_properties(int8_deconv PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# End to end: yolov10n, yolov5n (640x640) and mobilenetv2-12 (224x224), an
# entropy `compute` plan made in the test, INT8 against the simulation
# (relative L2, top-1, detections). Slow: about 5 minutes at 2 threads.
add_test(NAME int8_vs_sim
  COMMAND sh ${OCT_NEED} ${OCT_VENV_PYTHON} --
          ${OCT_VENV_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/int8_vs_sim.py --octet $<TARGET_FILE:octet>)
set_tests_properties(int8_vs_sim PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 3600 LABELS slow)

# The q8 backend: MaxPool, Concat, Split, Resize and Add on int8 codes
# between INT8 Convs, on small SPPF / C2f / FPN / residual graphs
# (tests/test_int8_q8.c).
add_executable(test_int8_q8 ${CMAKE_CURRENT_LIST_DIR}/test_int8_q8.c)
target_include_directories(test_int8_q8 PRIVATE ${OCT_TEST_INC})
target_compile_options(test_int8_q8 PRIVATE ${OCT_WARN})
target_link_libraries(test_int8_q8 PRIVATE octet_core)
if(DNNL_LIB)
  target_compile_definitions(test_int8_q8 PRIVATE OCT_HAVE_DNNL=1)
endif()
add_test(NAME int8_q8 COMMAND $<TARGET_FILE:test_int8_q8>)
set_tests_properties(int8_q8 PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)

# Real INT8 execution (issue 5): the oneDNN INT8 convolution against the
# simulation on generated one-Conv models (tests/test_int8_conv.c), and
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

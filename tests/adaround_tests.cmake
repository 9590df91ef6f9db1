# The AdaRound unit tests (tests/test_adaround.c): the optimizer's gradient
# against finite differences, AdaRound against round-to-nearest on synthetic
# layers, grouped layers, code constraints, bad arguments, and the time per
# step (printed). include()d from tests/CMakeLists.txt, after OCT_TEST_INC is
# set.
add_executable(test_adaround ${CMAKE_CURRENT_LIST_DIR}/test_adaround.c)
target_include_directories(test_adaround PRIVATE ${OCT_TEST_INC})
target_compile_options(test_adaround PRIVATE ${OCT_WARN})
target_link_libraries(test_adaround PRIVATE octet_core)
add_test(NAME adaround COMMAND $<TARGET_FILE:test_adaround>)
set_tests_properties(adaround PROPERTIES TIMEOUT 600)

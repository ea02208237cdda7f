// daemon_integration_test: imsakad on a private bus with pcscd, vpcd and imsaka-vicc
// (tests/support/daemon-sandbox.sh), one sandbox per test (CMakeLists.txt). Run again as
// "--client USER", it is the child process of UserClient.
#include <gtest/gtest.h>

#include <string>

#include "user_client.h"

int main(int argc, char** argv) {
    if (argc == 3 && std::string(argv[1]) == "--client")
        return imsaka::busclient::runUserClient(argv[2]);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}

// `q8c status` / `q8c reload` text and JSON, from responses built in code.
#include "client/repository_listing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace q8::client {
namespace {

using ::testing::HasSubstr;

q8serve::v1::ReloadRepositoryResponse FailedReload() {
  q8serve::v1::ReloadRepositoryResponse reload;
  auto* change = reload.add_changes();
  change->set_model_name("digits");
  change->set_version(3);
  change->set_change("failed");
  change->set_reason("digits/3/model.onnx: not a model");
  auto* model = reload.add_models();
  model->set_model_name("digits");
  model->set_version_policy("latest 1");
  auto* v2 = model->add_versions();
  v2->set_version(2);
  v2->set_state("available");
  v2->set_path("/r/digits/2/model.onnx");
  auto* v3 = model->add_versions();
  v3->set_version(3);
  v3->set_state("failed");
  v3->set_reason("digits/3/model.onnx: not a model");
  return reload;
}

TEST(RepositoryListingTest, ReloadShowsChangesThenEveryModel) {
  const std::string text = RenderReload(FailedReload());
  EXPECT_EQ(text,
            "CHANGES\n"
            "  MODEL   VERSION  CHANGE  REASON\n"
            "  digits  3        failed  digits/3/model.onnx: not a model\n"
            "\n"
            "digits  (version policy: latest 1)\n"
            "  VERSION  STATE      REASON                            PATH\n"
            "  2        available  -                                 /r/digits/2/model.onnx\n"
            "  3        failed     digits/3/model.onnx: not a model\n");
  EXPECT_TRUE(ReloadHadFailures(FailedReload()));
  EXPECT_FALSE(ReloadHadFailures(q8serve::v1::ReloadRepositoryResponse()));
  EXPECT_THAT(RenderReload(q8serve::v1::ReloadRepositoryResponse()), HasSubstr("CHANGES: none"));
}

TEST(RepositoryListingTest, StatusShowsAConfigErrorAndJsonUsesProtoNames) {
  q8serve::v1::GetModelStatusResponse status;
  auto* model = status.add_models();
  model->set_model_name("mlp");
  model->set_version_policy("all");
  model->set_error("mlp/config.pbtxt: line 2, column 1: unknown field");
  EXPECT_EQ(RenderModelStatus(status),
            "mlp  (version policy: all)\n"
            "  ERROR: mlp/config.pbtxt: line 2, column 1: unknown field\n"
            "  (no version directories)\n");
  EXPECT_THAT(ModelStatusToJson(status), HasSubstr("\"version_policy\":\"all\""));
  EXPECT_THAT(ReloadToJson(FailedReload()), HasSubstr("\"model_name\":\"digits\""));
}

}  // namespace
}  // namespace q8::client

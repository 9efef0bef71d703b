// libime (fcitx5 Pinyin engine) driver.
#include "common.h"
#include <libime/core/languagemodel.h>
#include <libime/core/userlanguagemodel.h>
#include <libime/core/lattice.h>
#include <libime/pinyin/pinyincontext.h>
#include <libime/pinyin/pinyindictionary.h>
#include <libime/pinyin/pinyinime.h>
#include <libime/pinyin/pinyinencoder.h>
#include <set>

using namespace libime;

static std::vector<std::string> convert(PinyinContext &c, const std::string &in, size_t k) {
    c.clear();
    c.type(in);
    std::vector<std::string> out;
    std::set<std::string> seen;
    size_t total = c.userInput().size();
    for (const auto &cand : c.candidates()) {
        const auto &sent = cand.sentence();
        if (sent.empty()) continue;
        if (sent.back()->to()->index() != total) continue; // partial candidate
        auto s = cand.toString();
        if (seen.insert(s).second) out.push_back(s);
        if (out.size() >= k) break;
    }
    return out;
}

int main(int argc, char **argv) {
    Args a = parseArgs(argc, argv);
    const char *dict = getenv("LIBIME_DICT") ? getenv("LIBIME_DICT") : "/usr/share/libime/sc.dict";
    const char *lm = getenv("LIBIME_LM") ? getenv("LIBIME_LM") : "/usr/lib/x86_64-linux-gnu/libime/zh_CN.lm";
    PinyinIME ime(std::make_unique<PinyinDictionary>(), std::make_unique<UserLanguageModel>(lm));
    ime.dict()->load(PinyinDictionary::SystemDict, dict, PinyinDictFormat::Binary);
    ime.setNBest(a.nbest);
    // fcitx5-pinyin default fuzzy set minus the sound-alike fuzzies (input is exact);
    // LIBIME_FUZZY (comma list of PinyinFuzzyFlag names) replaces it.
    PinyinFuzzyFlags flags{PinyinFuzzyFlag::Inner, PinyinFuzzyFlag::VE_UE};
    if (const char *f = getenv("LIBIME_FUZZY")) {
        static const std::pair<const char *, PinyinFuzzyFlag> names[] = {
            {"CommonTypo", PinyinFuzzyFlag::CommonTypo}, {"V_U", PinyinFuzzyFlag::V_U},
            {"AN_ANG", PinyinFuzzyFlag::AN_ANG}, {"EN_ENG", PinyinFuzzyFlag::EN_ENG},
            {"IAN_IANG", PinyinFuzzyFlag::IAN_IANG}, {"IN_ING", PinyinFuzzyFlag::IN_ING},
            {"U_OU", PinyinFuzzyFlag::U_OU}, {"UAN_UANG", PinyinFuzzyFlag::UAN_UANG},
            {"C_CH", PinyinFuzzyFlag::C_CH}, {"F_H", PinyinFuzzyFlag::F_H},
            {"L_N", PinyinFuzzyFlag::L_N}, {"S_SH", PinyinFuzzyFlag::S_SH},
            {"Z_ZH", PinyinFuzzyFlag::Z_ZH}, {"VE_UE", PinyinFuzzyFlag::VE_UE},
            {"Inner", PinyinFuzzyFlag::Inner}, {"InnerShort", PinyinFuzzyFlag::InnerShort},
            {"PartialFinal", PinyinFuzzyFlag::PartialFinal}};
        flags = PinyinFuzzyFlag::None;
        std::stringstream ss(f);
        std::string name;
        while (std::getline(ss, name, ',')) {
            bool known = false;
            for (auto &n : names)
                if (name == n.first) { flags |= n.second; known = true; }
            if (!known && !name.empty()) { fprintf(stderr, "unknown flag %s\n", name.c_str()); return 2; }
        }
    }
    ime.setFuzzyFlags(flags);
    PinyinContext c(&ime);
    auto lines = readLines();
    std::vector<std::string> inputs;
    for (auto &l : lines) inputs.push_back(joinSyl(splitSyl(l), a.mode));
    for (int i = 0; i < a.warmup && i < (int)inputs.size(); i++) convert(c, inputs[i], a.nbest);
    for (auto &in : inputs) {
        double c0 = threadCpuUs();
        auto t0 = Clock::now();
        auto r = convert(c, in, a.nbest);
        double us = usSince(t0);
        double cus = threadCpuUs() - c0;
        emit(us, cus, r);
    }
    fflush(stdout);
    reportRss();
    return 0;
}

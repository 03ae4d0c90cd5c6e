// IGVM (Independent Guest Virtual Machine) on-disk constants, shared by the
// reader and a writer. Transcribed from microsoft/igvm igvm_defs/src/lib.rs
// (commit e6c3ff1c34c3570e91e6c29bf3375313f5fafc39); docs/igvm.md §2.
// All fields are little-endian. Layout:
//   0x00 fixed header: u32 magic "IGVM", u32 format_version (1 or 2),
//        u32 variable_header_offset, u32 variable_header_size,
//        u32 total_file_size, u32 checksum; revision 2 adds u32 architecture
//        (0 x64, 1 aarch64) and u32 page_size (4096).
//   variable headers: TLVs (u32 type, u32 length, body), each at an 8-byte
//        aligned offset, zero padded; sections platform (0x1-0x100), then
//        initialization (0x101-0x200), then directives (0x301-0x400); type
//        bit 31 marks a header a loader may ignore.
//   file data: bytes referenced by absolute file offsets from the headers.
// The checksum is the CRC-32 (IEEE) of the fixed header with its checksum
// field zero, followed by the variable header.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mkguest::igvm {

inline constexpr std::uint32_t kMagic = 0x4D564749;  // "IGVM" little-endian
inline constexpr std::uint32_t kVersion1 = 1;
inline constexpr std::uint32_t kVersion2 = 2;
inline constexpr std::size_t kFixedHeaderSizeV1 = 24;
inline constexpr std::size_t kFixedHeaderSizeV2 = 32;
inline constexpr std::size_t kPageSize = 4096;
inline constexpr std::uint64_t kPageSize2M = 2 * 1024 * 1024;

// Fixed header field offsets.
inline constexpr std::size_t kFhMagic = 0, kFhVersion = 4, kFhVarOffset = 8, kFhVarSize = 12,
                             kFhTotalSize = 16, kFhChecksum = 20, kFhArchitecture = 24,
                             kFhPageSize = 28;

enum class Architecture : std::uint32_t { kX64 = 0, kAArch64 = 1 };

// Variable header types (IgvmVariableHeaderType).
inline constexpr std::uint32_t kOptionalBit = 1u << 31;
inline constexpr std::uint32_t kVhtSupportedPlatform = 0x1;
inline constexpr std::uint32_t kVhtGuestPolicy = 0x101;
inline constexpr std::uint32_t kVhtRelocatableRegion = 0x102;
inline constexpr std::uint32_t kVhtPageTableRelocation = 0x103;
inline constexpr std::uint32_t kVhtCorimDocument = 0x104;
inline constexpr std::uint32_t kVhtCorimSignature = 0x105;
inline constexpr std::uint32_t kVhtCcaPolicy = 0x106;
inline constexpr std::uint32_t kVhtParameterArea = 0x301;
inline constexpr std::uint32_t kVhtPageData = 0x302;
inline constexpr std::uint32_t kVhtParameterInsert = 0x303;
inline constexpr std::uint32_t kVhtVpContext = 0x304;
inline constexpr std::uint32_t kVhtRequiredMemory = 0x305;
inline constexpr std::uint32_t kVhtReservedDoNotUse = 0x306;
inline constexpr std::uint32_t kVhtVpCount = 0x307;
inline constexpr std::uint32_t kVhtSrat = 0x308;
inline constexpr std::uint32_t kVhtMadt = 0x309;
inline constexpr std::uint32_t kVhtMmioRanges = 0x30A;
inline constexpr std::uint32_t kVhtSnpIdBlock = 0x30B;
inline constexpr std::uint32_t kVhtMemoryMap = 0x30C;
inline constexpr std::uint32_t kVhtErrorRange = 0x30D;
inline constexpr std::uint32_t kVhtCommandLine = 0x30E;
inline constexpr std::uint32_t kVhtSlit = 0x30F;
inline constexpr std::uint32_t kVhtPptt = 0x310;
inline constexpr std::uint32_t kVhtVbsMeasurement = 0x311;
inline constexpr std::uint32_t kVhtDeviceTree = 0x312;
inline constexpr std::uint32_t kVhtEnvironmentInfo = 0x313;

inline constexpr std::uint32_t kRangePlatformFirst = 0x1, kRangePlatformLast = 0x100;
inline constexpr std::uint32_t kRangeInitFirst = 0x101, kRangeInitLast = 0x200;
inline constexpr std::uint32_t kRangeDirectiveFirst = 0x301, kRangeDirectiveLast = 0x400;

// Body sizes (the TLV length field), from the repr(C) structs.
inline constexpr std::size_t kSizeSupportedPlatform = 16;  // IGVM_VHS_SUPPORTED_PLATFORM
inline constexpr std::size_t kSizeGuestPolicy = 16;        // IGVM_VHS_GUEST_POLICY
inline constexpr std::size_t kSizeRelocatableRegion = 48;  // IGVM_VHS_RELOCATABLE_REGION
inline constexpr std::size_t kSizePageTableRelocation = 32;
inline constexpr std::size_t kSizeCorimData = 16;  // IGVM_VHS_CORIM_DATA
inline constexpr std::size_t kSizeCcaPolicy = 32;  // IGVM_VHS_CCA_POLICY
inline constexpr std::size_t kSizeParameterArea = 16;
inline constexpr std::size_t kSizePageData = 24;
inline constexpr std::size_t kSizeParameterInsert = 16;
inline constexpr std::size_t kSizeParameter = 8;   // IGVM_VHS_PARAMETER
inline constexpr std::size_t kSizeVpContext = 20;  // u64_le gpa: alignment 1, padded to 24
inline constexpr std::size_t kSizeRequiredMemory = 24;
inline constexpr std::size_t kSizeErrorRange = 16;
inline constexpr std::size_t kSizeSnpIdBlock = 696;
inline constexpr std::size_t kSizeVbsMeasurement = 864;

// Platform types (IgvmPlatformType, u8) and their only defined version (1).
inline constexpr std::uint8_t kPlatformNative = 0x00;
inline constexpr std::uint8_t kPlatformVsmIsolation = 0x01;
inline constexpr std::uint8_t kPlatformSevSnp = 0x02;
inline constexpr std::uint8_t kPlatformTdx = 0x03;
inline constexpr std::uint8_t kPlatformSev = 0x04;
inline constexpr std::uint8_t kPlatformSevEs = 0x05;
inline constexpr std::uint8_t kPlatformCca = 0x06;

// IGVM_VHS_PAGE_DATA data_type (u16) and flags (u32).
inline constexpr std::uint16_t kPageNormal = 0x0;
inline constexpr std::uint16_t kPageSecrets = 0x1;
inline constexpr std::uint16_t kPageCpuidData = 0x2;
inline constexpr std::uint16_t kPageCpuidXf = 0x3;
inline constexpr std::uint32_t kPageFlag2M = 1u << 0;
inline constexpr std::uint32_t kPageFlagUnmeasured = 1u << 1;
inline constexpr std::uint32_t kPageFlagShared = 1u << 2;
inline constexpr std::uint32_t kPageFlagsKnown = 0x7;

// VbsVpContextHeader (u32 register count) then 32-byte registers.
inline constexpr std::size_t kVbsRegisterSize = 0x20;

}  // namespace mkguest::igvm

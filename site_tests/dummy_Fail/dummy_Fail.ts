import { Test, TestFail } from 'autotest/client';

/** A client test that always fails, so the failure path of a whole run can be seen and tested. */
export class dummy_Fail extends Test<{ message?: string }> {
  runOnce({ message = 'dummy_Fail fails on purpose' }: { message?: string }): void {
    throw new TestFail(message);
  }
}
